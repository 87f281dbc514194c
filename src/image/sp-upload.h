/* Replacing a volume's content (upload) through the public pool API: the
 * new bytes go to a hidden temporary in the pool, are inspected against
 * the volume's recorded format and backing store, and replace the volume
 * atomically, carrying its whole recorded identity. */
#pragma once

#include <glib.h>

#include "image/sp-pool.h"

typedef struct SpUpload SpUpload;

/* Lock volume @name (exclusive) and create the temporary its new content is
 * written to. @pool must outlive the upload. */
SpUpload *sp_upload_begin(SpPool *pool, const char *name, GError **error);
/* Where the new content goes (owned by the upload; write, do not close). */
int sp_upload_fd(const SpUpload *u);
/* Its name in the pool (a hidden temporary). */
const char *sp_upload_tmpname(const SpUpload *u);
/* The volume it replaces. */
const char *sp_upload_name(const SpUpload *u);
/* Inspect the written content as the volume's recorded format: a qcow2
 * may name exactly its recorded backing store (which passes the gate
 * again) or none (the record then drops it); if safe, give it the
 * volume's identity and exchange it with the volume. On failure the
 * volume is unchanged. */
gboolean sp_upload_commit(SpUpload *u, GError **error);
/* Release the lock; removes the temporary (and after a commit, the old
 * content). */
void sp_upload_free(SpUpload *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpUpload, sp_upload_free)
