/* MANIFEST.json, the first entry of a vTPM archive: the domain uuid, the
 * tpm directory, the source's label and every entry's size, mode, sha256. */
#pragma once

#include <glib.h>

#define SP_VTPM_MANIFEST_NAME "MANIFEST.json"
#define SP_VTPM_MANIFEST_FORMAT "safepool-vtpm-state/1"
#define SP_VTPM_MANIFEST_MAX (1024 * 1024)

typedef struct {
    char *path; /* "tpm2" / "tpm2/tpm2-00.permall" */
    gboolean is_dir;
    guint32 mode;  /* permission bits */
    guint64 size;  /* files only */
    char *sha256;  /* files only, lowercase hex */
    gboolean seen; /* restore: met in the archive */
} SpVtpmManifestEntry;

typedef struct {
    char *uuid;
    char *tpm_dir;
    char *source_label; /* NULL when the source had none */
    char *source_host;
    GPtrArray *entries;  /* SpVtpmManifestEntry, in archive order */
    GHashTable *by_path; /* path -> entry (borrowed) */
    guint64 total_size;
} SpVtpmManifest;

SpVtpmManifest *sp_vtpm_manifest_new(const char *uuid, const char *tpm_dir);
void sp_vtpm_manifest_free(SpVtpmManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpVtpmManifest, sp_vtpm_manifest_free)

/* Takes ownership of @sha256. */
void sp_vtpm_manifest_add(SpVtpmManifest *m, const char *path, gboolean is_dir,
                          guint32 mode, guint64 size, char *sha256);

char *sp_vtpm_manifest_to_json(const SpVtpmManifest *m, gsize *len);

/* Parse and validate: known format, canonical uuid, tpm dir "tpm2" or
 * "tpm1.2", every path relative below it without ".", ".." or empty
 * components, parents listed before children, no duplicates, sizes within
 * @max each and in total, at most SP_VTPM_MAX_ENTRIES. SP_ERROR_INVALID
 * naming the offending path otherwise. */
SpVtpmManifest *sp_vtpm_manifest_parse(const char *data, gsize len, guint64 max,
                                       GError **error);

/* Syntax check of an archive path: SP_ERROR_INVALID with the reason
 * ("absolute path", "'..' component", ...). */
gboolean sp_vtpm_check_relpath(const char *path, GError **error);
