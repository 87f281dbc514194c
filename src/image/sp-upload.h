/* Replacing a volume's content (upload, wipe) through the public pool API:
 * the new bytes go to a hidden temporary in the pool, are inspected against
 * the volume's recorded format, and replace the volume atomically. */
#pragma once

#include <glib.h>

#include "conf/sp-policy.h"
#include "image/sp-pool.h"

typedef struct SpUpload SpUpload;

/* Lock volume @name (exclusive) and create the temporary its new content is
 * written to. @pool must outlive the upload. */
SpUpload *sp_upload_begin(SpPool *pool, const SpPolicy *policy,
                          const char *name, GError **error);
/* Where the new content goes (owned by the upload; write, do not close). */
int sp_upload_fd(const SpUpload *u);
/* Inspect the written content as the volume's recorded format; if safe,
 * give it the volume's mode, owner and safepool xattrs and exchange it with
 * the volume. On failure the volume is unchanged and the temporary gone. */
gboolean sp_upload_commit(SpUpload *u, GError **error);
/* Release the lock; removes the temporary unless committed. */
void sp_upload_free(SpUpload *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpUpload, sp_upload_free)

/* Wipe volume @name: raw volumes are replaced by an all-zero (sparse) file
 * of the same size; qcow2 and other formats without encryption are
 * re-created empty from their recorded definition. Encrypted volumes are
 * refused (SP_ERROR_INVALID): wiping their header would make them unusable
 * and re-creating them needs the passphrase. */
gboolean sp_wipe(SpPool *pool, const SpPolicy *policy, const char *name,
                 GError **error);
