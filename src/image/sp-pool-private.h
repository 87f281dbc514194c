/* Internals shared by the executor's files (sp-pool*.c): the pool struct,
 * reading a volume's recorded definition, the backing-store gate and
 * running planned operations. */
#pragma once

#include <sys/stat.h>

#include "image/sp-pool.h"
#include "inspect/sp-inspect.h"
#include "util/sp-lock.h"

struct SpPool {
    int fd;                 /* the pool directory; every access is beneath it */
    char *path;             /* absolute, normalised */
    const SpPolicy *policy; /* owned by the caller, outlives the pool */
    guint swept;
};

/* Open volume @name (checked) of the pool: a regular file, no symlink
 * anywhere, never blocking on whatever else stands there. @flags as for
 * open(2); @st filled. */
int sp_pool_open_volume(SpPool *pool, const char *name, int flags,
                        struct stat *st, GError **error);

/* The recorded definition of the open volume @fd named @name: the stored
 * XML overridden by the recorded keys and by the file's size, allocation,
 * mode and owner. Format UNKNOWN when nothing is recorded. */
SpVolume *sp_pool_read_volume(SpPool *pool, const char *name, int fd,
                              const struct stat *st, GError **error);

/* Open @vol's backing store (backing_path, backing_format) beneath the pool
 * or a backing root with no symlinks anywhere: in the pool it must be a
 * volume with a recorded format equal to backing_format; anywhere it must
 * be a regular file with a single link, and pass the inspector as
 * backing_format. With @lock, a pool volume is shared-locked into *@lock.
 * Returns the fd, or -1. */
int sp_pool_open_backing(SpPool *pool, const SpVolume *vol, SpLock **lock,
                         GError **error);

/* Inspect the image @fd that is (or is about to become) volume @vol
 * before qemu-img reads it or it is published. A qcow2 backing file is
 * tolerated only when the header names exactly the recorded backing path
 * and format, and that store passes sp_pool_open_backing() again (the
 * record is only as trustworthy as whoever can write the volume's
 * attributes). The policy's max_capacity bounds its virtual size. The
 * inspector's result in @result if non-NULL; the backing store, opened
 * and checked, in @backing_fd if non-NULL (-1 when there is none). @what
 * names it in errors. */
/* The error of a failed lookup of volume @name (@local, taken): not found
 * becomes "volume 'NAME': no such volume in pool 'PATH'". */
void sp_pool_lookup_error(const SpPool *pool, const char *name, GError *local,
                          GError **error);

gboolean sp_pool_check_image(SpPool *pool, int fd, const SpVolume *vol,
                             const char *what, SpInspectResult **result,
                             int *backing_fd, GError **error);

/* The open files a plan runs on. qemu-img is shown exactly these, bound
 * by fd (the sandbox): the path it writes, and each path it reads. */
#define SP_RUN_MAX_INPUTS 4
typedef struct {
    int target_fd; /* what the plan writes (raw ops work on it) */
    int src_fd;    /* the clone source for SP_OP_RAW_CLONE, or -1 */
    guint64 src_size;
    const SpSecret *secret;     /* LUKS passphrase, or NULL */
    const SpProgress *progress; /* a clone's copy (raw or qemu-img), or NULL */
    const char *in_paths[SP_RUN_MAX_INPUTS]; /* inputs by the plan's path */
    int in_fds[SP_RUN_MAX_INPUTS];
    guint n_in;
} SpRun;

#define SP_RUN_INIT                                                            \
    {                                                                          \
        .target_fd = -1, .src_fd = -1                                          \
    }

/* Let qemu-img read @fd at @path (normalised, as the plan names it). */
void sp_run_add_input(SpRun *run, const char *path, int fd);

/* Run @plan's operations: raw ones in-process on run->target_fd, qemu-img
 * with its argv, in the sandbox unless the policy says otherwise. */
gboolean sp_pool_run_plan(SpPool *pool, const SpPlan *plan, const SpRun *run,
                          GError **error);

/* Whether volume @name of the pool is the recorded backing store of another
 * volume; its name in @user. */
gboolean sp_pool_find_user(SpPool *pool, const char *name, char **user,
                           GError **error);

/* SP_ERROR_IN_USE naming @name when volume @name backs another (delete,
 * wipe). */
gboolean sp_pool_check_unused(SpPool *pool, const char *name, GError **error);

/* A file reachable under another name (more than one hard link) is never
 * a clone source, a backing store or adopted: SP_ERROR_INVALID. */
gboolean sp_pool_check_single_link(const struct stat *st, const char *what,
                                   GError **error);
