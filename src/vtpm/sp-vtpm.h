/* vTPM (swtpm) state directories in libvirt's layout: a root opened once,
 * <root>/<uuid> (root 0711) and <root>/<uuid>/tpm2|tpm1.2 (swtpm, 0700). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "util/sp-lock.h"

/* The root's lock: the byte of this name (never an entry's: it has a '/')
 * in the root's lock file, held by every vtpm command for its whole run. */
#define SP_VTPM_ROOT_LOCK "/vtpm-root"

/* Most entries and deepest nesting a state may have (swtpm writes 2-3
 * files); bounds every walk and every archive. */
#define SP_VTPM_MAX_ENTRIES 4096
#define SP_VTPM_MAX_DEPTH 8

typedef struct {
    int fd;             /* the root directory, opened once */
    char *path;         /* for messages only */
    SpLock *lock;       /* SP_VTPM_ROOT_LOCK held, or NULL */
    GPtrArray *notices; /* one-line notices for the user */
} SpVtpmRoot;

/* What a state must look like: from the domain and the policy. */
typedef struct {
    char *uuid;    /* canonical; NULL for restore = from the manifest */
    char *tpm_dir; /* "tpm2"/"tpm1.2"; NULL = detect / from the manifest */
    char *name;    /* domain name when known */
    char *label;   /* SELinux imagelabel; NULL = not applied/checked */
    uid_t uid;     /* swtpm user */
    gid_t gid;     /* swtpm group */
} SpVtpmSpec;

void sp_vtpm_spec_clear(SpVtpmSpec *spec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpVtpmSpec, sp_vtpm_spec_clear)

/* Open @path as a vTPM root (creating it root:root 0711 when @create and
 * it is missing), take its lock and remove stale temporaries. A root that
 * cannot hold the lock file (read-only) is used unlocked when @may_skip_lock.
 */
SpVtpmRoot *sp_vtpm_root_open(const char *path, gboolean create,
                              gboolean may_skip_lock, GError **error);
void sp_vtpm_root_free(SpVtpmRoot *root);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpVtpmRoot, sp_vtpm_root_free)

void sp_vtpm_root_notice(SpVtpmRoot *root, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* "tpm2" or "tpm1.2" for a domain TPM version ("2.0"/"1.2"). */
const char *sp_vtpm_dir_for_version(const char *version);

/* Which of tpm2/tpm1.2 exists in <root>/<uuid> (spec->tpm_dir wins when
 * set). NOT_FOUND when the state does not exist. */
char *sp_vtpm_find_tpm_dir(SpVtpmRoot *root, const char *uuid, const char *want,
                           GError **error);

/* SP_ERROR_LOCKED when a running swtpm holds the .lock of @tpm_dir or of
 * the other tpm dir (tpm2/tpm1.2) of the state. */
gboolean sp_vtpm_check_not_running(SpVtpmRoot *root, const char *uuid,
                                   const char *tpm_dir, GError **error);

/* Create <uuid>/<tpm_dir> (built in a temporary, published with
 * RENAME_NOREPLACE). An existing state -> SP_ERROR_EXISTS, untouched. */
gboolean sp_vtpm_create(SpVtpmRoot *root, const SpVtpmSpec *spec,
                        GError **error);

/* Move <uuid> to a temporary name (atomic), then remove it. */
gboolean sp_vtpm_delete(SpVtpmRoot *root, const char *uuid, GError **error);

typedef struct {
    char *uuid;
    char *tpm_dir; /* NULL when neither tpm2 nor tpm1.2 exists */
    guint64 size;  /* bytes of regular files */
    uid_t uid;     /* of the tpm dir */
    gid_t gid;
    guint32 mode;
    char *label; /* NULL: none or unsupported */
} SpVtpmListEntry;

void sp_vtpm_list_entry_free(SpVtpmListEntry *e);

/* The states under the root (uuid-named directories), sorted. */
GPtrArray *sp_vtpm_list(SpVtpmRoot *root, GError **error);

/* Test-only hook: when $SAFEPOOL_VTPM_TEST_ABORT_AFTER equals @step the
 * process SIGKILLs itself, so tests can check crash safety per step; when
 * $SAFEPOOL_VTPM_TEST_STOP_AFTER does, it SIGSTOPs itself until a SIGCONT. */
void sp_vtpm_test_abort_point(const char *step);

#include "vtpm/sp-vtpm-archive.h"
#include "vtpm/sp-vtpm-verify.h"
