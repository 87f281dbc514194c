/* Internals shared by the executor's files (sp-pool*.c): the pool struct,
 * reading a volume's recorded definition, and running planned operations. */
#pragma once

#include <sys/stat.h>

#include "image/sp-pool.h"
#include "util/sp-lock.h"

struct SpPool {
    int fd;                 /* the pool directory; every access is beneath it */
    char *path;             /* absolute, normalised */
    const SpPolicy *policy; /* owned by the caller, outlives the pool */
    guint swept;
};

/* Open volume @name (checked) of the pool: a regular file, no symlink
 * anywhere. @flags as for open(2); @st filled. */
int sp_pool_open_volume(SpPool *pool, const char *name, int flags,
                        struct stat *st, GError **error);

/* The recorded definition of the open volume @fd named @name: the stored XML
 * overridden by the format/encryption/backing xattrs and by the file's
 * size, allocation, mode and owner. Format UNKNOWN when not recorded. */
SpVolume *sp_pool_read_volume(SpPool *pool, const char *name, int fd,
                              const struct stat *st, GError **error);

/* Open @vol's backing store (backing_path, backing_format) beneath the pool
 * or a backing root with no symlinks anywhere, check the format recorded on
 * a pool volume, and inspect it as backing_format. With @lock, a pool
 * volume is shared-locked into *@lock. Returns the fd, or -1. */
int sp_pool_open_backing(SpPool *pool, const SpVolume *vol, SpLock **lock,
                         GError **error);

/* Inspect an existing volume @vol of the pool before qemu-img reads it. A
 * qcow2 backing file is tolerated only when the header names exactly the
 * recorded backing path and format, and that backing store passes
 * sp_pool_open_backing() again (the xattrs are writable by anyone who can
 * write the volume, so they are checked, not trusted). */
gboolean sp_pool_check_volume_image(SpPool *pool, int fd, const SpVolume *vol,
                                    GError **error);

/* Run @plan's operations on @target_fd (raw ops) / their argv (qemu-img).
 * @src_fd/@src_size: the clone source for SP_OP_RAW_CLONE. */
gboolean sp_pool_run_plan(SpPool *pool, const SpPlan *plan, int target_fd,
                          int src_fd, guint64 src_size, const SpSecret *secret,
                          GError **error);

/* Whether volume @name of the pool is the recorded backing store of another
 * volume; its name in @user. */
gboolean sp_pool_find_user(SpPool *pool, const char *name, char **user,
                           GError **error);
