/* Secret buffers: mlock'd, wiped on free, handed to children only through an
 * inherited memfd or pipe (/dev/fd/N), never argv or a named file. */
#pragma once

#include <glib.h>

#include "util/sp-glib-compat.h"

/* The fd number children see a secret on ("file=/dev/fd/3"). */
#define SP_SECRET_CHILD_FD 3

typedef struct SpSecret SpSecret;

SpSecret *sp_secret_new(const guint8 *data, gsize len);
/* @len zero bytes to be filled in place (derived keys, decrypted data). */
SpSecret *sp_secret_new_size(gsize len);
/* Read a secret file (trailing single newline stripped). */
SpSecret *sp_secret_new_from_file(const char *path, GError **error);
/* Read @fd from where it stands to end of file, at most 64 KiB, straight
 * into locked memory; pipes and FIFOs too (an fd the caller was handed,
 * e.g. --key-fd; a blocking read waits for the writer to close). @text:
 * strip one trailing newline and refuse an empty secret. @what names the
 * source in errors ("key file 'k'", "--key-fd 3"). */
SpSecret *sp_secret_new_from_fd(int fd, const char *what, gboolean text,
                                GError **error);
const guint8 *sp_secret_data(const SpSecret *s);
guint8 *sp_secret_data_mut(SpSecret *s);
/* The base64 encoding of @raw (a cephx key as libvirt's secret driver
 * holds it, decoded) in a secret buffer. */
SpSecret *sp_secret_new_base64(const guint8 *raw, gsize len);
/* The secret as a C string (every secret buffer is NUL-terminated; a
 * secret with a NUL inside ends there). */
const char *sp_secret_cstr(const SpSecret *s);
gsize sp_secret_len(const SpSecret *s);
/* Append @len bytes, moving to a larger locked mapping when needed (the
 * old one is wiped first). Aborts only when memory runs out, as g_malloc. */
void sp_secret_append(SpSecret *s, const void *data, gsize len);
void sp_secret_free(SpSecret *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpSecret, sp_secret_free)

/* A sealed memfd holding the secret, positioned at 0, CLOEXEC (the runner
 * maps it to SP_SECRET_CHILD_FD). Caller closes. */
int sp_secret_to_memfd(const SpSecret *s, GError **error);

/* Test hook: when set, sp_secret_free calls it with the (already wiped)
 * mapping instead of unmapping it; the hook must munmap it. NULL restores
 * the default. Lets a test check that freeing really erases the bytes. */
typedef void (*SpSecretReleaseHook)(void *mem, gsize size);
void sp_secret_set_release_hook(SpSecretReleaseHook hook);
