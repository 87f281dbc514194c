/* Wiping a volume in place: the same inode keeps its identity, and every
 * fd opened on it earlier (a running guest's) reads zeros afterwards. */
#include "image/sp-pool-private.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

#define SP_WIPE_CHUNK (1024 * 1024)

/* Zeros over [0, @size) by writing them, where holes cannot be punched. */
static gboolean
sp_wipe_write_zeros(int fd, guint64 size, const char *what, GError **error)
{
    g_autofree guint8 *zeros = g_malloc0(SP_WIPE_CHUNK);

    for (guint64 off = 0; off < size;) {
        gsize n = (gsize)MIN((guint64)SP_WIPE_CHUNK, size - off);
        ssize_t w = pwrite(fd, zeros, n, (off_t)off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return sp_error_set_errno(error, errno, _("%s: wipe"), what);
        off += (guint64)w;
    }
    return TRUE;
}

/* Make [0, @size) of @fd read as zeros on the same inode: punched holes
 * (their blocks are freed, not handed to the guest again), re-allocated
 * when the file was fully allocated, written zeros where the filesystem
 * cannot punch. */
static gboolean
sp_wipe_zero(int fd, const struct stat *st, const char *what, GError **error)
{
    guint64 size = (guint64)st->st_size;
    gboolean allocated = (guint64)st->st_blocks * 512 >= size;

    if (size == 0)
        return TRUE;
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                  (off_t)size) < 0) {
        if (errno != EOPNOTSUPP && errno != ENOSYS)
            return sp_error_set_errno(error, errno, _("%s: wipe"), what);
        return sp_wipe_write_zeros(fd, size, what, error);
    }
    if (allocated && fallocate(fd, 0, 0, (off_t)size) < 0 &&
        errno != EOPNOTSUPP)
        return sp_error_set_errno(error, errno, _("%s: allocate"), what);
    return TRUE;
}

/* Whether any process holds a lock on the volume's file: qemu locks the
 * images it has open, so a running guest's disk is in use. */
static gboolean
sp_wipe_check_closed(int fd, const char *what, GError **error)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        return sp_error_set_errno(error, errno, _("%s: lock test"), what);
    if (fl.l_type == F_UNLCK)
        return TRUE;
    g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                _("%s: is open in a running process (a guest?); a structured "
                  "volume is only wiped while nothing uses it"),
                what);
    return FALSE;
}

/* Rebuild @vol empty in a temporary (its recorded definition; nothing is
 * touched if that fails), then write the result over the volume's own
 * inode: zero it, size it, copy the new image in. */
static gboolean
sp_wipe_rebuild(SpPool *pool, SpVolume *vol, int fd, const struct stat *st,
                const char *what, GError **error)
{
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autofree char *target = NULL;
    g_autoptr(SpPlan) plan = NULL;
    g_autoptr(SpLock) backing_lock = NULL;
    g_autofd int bfd = -1;
    SpPlanCreateArgs pa = {.pool_path = pool->path};
    SpRun run = SP_RUN_INIT;
    struct stat built;

    if (vol->backing_path &&
        (bfd = sp_pool_open_backing(pool, vol, &backing_lock, error)) < 0)
        return FALSE;
    if (!sp_fs_tmp_file(&t, pool->fd, "wipe", error))
        return FALSE;
    target = g_build_filename(pool->path, t.name, NULL);
    pa.target_path = target;
    vol->capacity = vol->capacity ? vol->capacity : (guint64)st->st_size;
    vol->has_capacity = TRUE;
    vol->has_allocation = FALSE;
    run.target_fd = t.fd;
    if (bfd >= 0)
        sp_run_add_input(&run, vol->backing_path, bfd);
    if (!(plan = sp_plan_create(pool->policy, vol, &pa, error)) ||
        !sp_pool_run_plan(pool, plan, &run, error) ||
        !sp_fs_tmp_still_ours(&t, what, "qemu-img ran", error) ||
        !sp_pool_check_image(pool, t.fd, vol, what, NULL, NULL, error))
        return FALSE;
    if (fstat(t.fd, &built) < 0)
        return sp_error_set_errno(error, errno, "%s", what);
    if (!sp_wipe_zero(fd, st, what, error))
        return FALSE;
    if (ftruncate(fd, built.st_size) < 0)
        return sp_error_set_errno(error, errno, _("%s: wipe"), what);
    if (!sp_fs_copy_sparse(t.fd, fd, (guint64)built.st_size,
                           SP_FS_REFLINK_NEVER, NULL, NULL, error)) {
        g_prefix_error(error, "%s: ", what);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_pool_wipe(SpPool *pool, const char *name, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), name);
    g_autoptr(SpVolume) vol = NULL;
    g_autoptr(SpLock) lock = NULL;
    g_autofd int fd = -1;
    struct stat st;
    SpFormat img;

    if (!sp_volume_check_name(name, error) ||
        !(lock = sp_lock_acquire(pool->fd, name, TRUE, error)) ||
        (fd = sp_pool_open_volume(pool, name, O_RDWR, &st, error)) < 0 ||
        !(vol = sp_pool_read_volume(pool, name, fd, &st, error)))
        return FALSE;
    img = sp_volume_image_format(vol);
    if (img == SP_FORMAT_UNKNOWN) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: no recorded format (not created by safepool)"),
                    what);
        return FALSE;
    }
    if (vol->encryption.enabled) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: wiping an encrypted volume is not supported (it "
                      "would destroy its LUKS header)"),
                    what);
        return FALSE;
    }
    /* A volume another is backed by: wiping it changes that one's data,
     * as deleting it would break it. */
    if (!sp_pool_check_unused(pool, name, error))
        return FALSE;
    if (img == SP_FORMAT_RAW) {
        if (!sp_wipe_zero(fd, &st, what, error))
            return FALSE;
    } else if (!sp_wipe_check_closed(fd, what, error) ||
               !sp_wipe_rebuild(pool, vol, fd, &st, what, error)) {
        return FALSE;
    }
    if (fsync(fd) < 0)
        return sp_error_set_errno(error, errno, _("%s: fsync"), what);
    return TRUE;
}
