/* Sealed vTPM archives (archive version 2): a plain archive encrypted and
 * authenticated with libsodium's XChaCha20-Poly1305 secretstream. */
#pragma once

#include <glib.h>

#include "util/sp-secret.h"

#define SP_VTPM_SEAL_MAGIC "SPVTPMSE"
#define SP_VTPM_SEAL_VERSION 2
/* The header fills the first sector: see docs/vtpm.md for its fields. */
#define SP_VTPM_SEAL_HEADER 512
#define SP_VTPM_SEAL_KEY_BYTES 32
/* Plain bytes per chunk: what save writes, and the bounds restore takes. */
#define SP_VTPM_SEAL_CHUNK 65536
#define SP_VTPM_SEAL_CHUNK_MIN 4096
#define SP_VTPM_SEAL_CHUNK_MAX (1024 * 1024)
/* Zero bytes a volume may hold after the archive (a pool that rounds
 * sizes up, e.g. to LVM extents). */
#define SP_VTPM_SEAL_PAD_MAX (4 * 1024 * 1024)

typedef enum {
    SP_VTPM_KEY_RAW,        /* 32 bytes used as they are */
    SP_VTPM_KEY_PASSPHRASE, /* stretched with Argon2id */
} SpVtpmKeyKind;

typedef struct {
    SpVtpmKeyKind kind;
    SpSecret *secret; /* the key or the passphrase */
    char *source;     /* "key file 'k'", "--key-fd 3": for messages */
    guint64 memory;   /* Argon2id bytes and iterations for new archives */
    guint64 iterations;
    guint64 max_memory; /* the most an archive's header may ask for */
    guint64 max_iterations;
} SpVtpmKey;

/* A key of @kind from @secret (taken over); a raw key must be exactly 32
 * bytes (SP_ERROR_INVALID naming @source otherwise). Argon2id parameters
 * are the built-in ones until the caller sets the policy's. */
SpVtpmKey *sp_vtpm_key_new(SpVtpmKeyKind kind, SpSecret *secret,
                           const char *source, GError **error);
void sp_vtpm_key_free(SpVtpmKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpVtpmKey, sp_vtpm_key_free)

/* Does @data start like a sealed archive (the magic)? */
gboolean sp_vtpm_is_sealed(const guint8 *data, gsize len);

/* The most bytes a sealed archive of at most @plain_max plain bytes (and
 * its padding) may take: the bound for reading one. */
guint64 sp_vtpm_sealed_max(guint64 plain_max);

/* Seal the plain archive @plain in chunks of @chunk bytes (between
 * SP_VTPM_SEAL_CHUNK_MIN and _MAX). On success *key_id (if given) is the
 * hex key id written in the header. */
GBytes *sp_vtpm_seal(const SpVtpmKey *key, const guint8 *plain, gsize len,
                     gsize chunk, char **key_id, GError **error);

/* Check and decrypt a sealed archive: header (every field, authenticated
 * with the first chunk), key kind and key id, every chunk in order, the
 * final tag, the exact length, only zeros after it. The plain archive (at
 * most @plain_max bytes) comes back in a secret buffer, and only once all
 * of it is authenticated. Refusals are SP_ERROR_INVALID and start with
 * "archive '@what': ". */
SpSecret *sp_vtpm_unseal(const SpVtpmKey *key, const guint8 *data, gsize len,
                         guint64 plain_max, const char *what, GError **error);
