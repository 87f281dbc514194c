/* Resizing and deleting existing volumes, each under the volume's exclusive
 * lock. */
#include "image/sp-pool-private.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

gboolean
sp_pool_resize(SpPool *pool, const char *name, guint64 capacity, gboolean shrink,
               const SpSecret *secret, GError **error)
{
    g_autoptr(SpLock) lock = NULL;
    g_autoptr(SpVolume) vol = NULL;
    g_autoptr(SpPlan) plan = NULL;
    g_autofree char *path = NULL;
    g_autofd int fd = -1;
    struct stat st;

    if (!sp_volume_check_name(name, error))
        return FALSE;
    lock = sp_lock_acquire(pool->fd, name, TRUE, error);
    if (!lock)
        return FALSE;
    fd = sp_pool_open_volume(pool, name, O_RDWR, &st, error);
    if (fd < 0)
        return FALSE;
    vol = sp_pool_read_volume(pool, name, fd, &st, error);
    if (!vol)
        return FALSE;
    if (vol->format == SP_FORMAT_UNKNOWN) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': no recorded format (not created by safepool)"),
                    name);
        return FALSE;
    }
    if (pool->policy->max_capacity && capacity > pool->policy->max_capacity) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': capacity %" PRIu64
                      " exceeds the policy maximum %" PRIu64),
                    name, capacity, pool->policy->max_capacity);
        return FALSE;
    }
    if (capacity == 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': capacity 0 is not allowed"), name);
        return FALSE;
    }
    path = g_build_filename(pool->path, name, NULL);
    plan = sp_plan_resize(pool->policy, vol, path, vol->capacity, capacity, shrink,
                          error);
    if (!plan)
        return FALSE;
    /* qemu-img is about to open the image: it must be what was recorded. */
    if (sp_volume_image_format(vol) != SP_FORMAT_RAW &&
        !sp_pool_check_volume_image(pool, fd, vol, error))
        return FALSE;
    if (!sp_pool_run_plan(pool, plan, fd, -1, 0, secret, error))
        return FALSE;
    if (fsync(fd) < 0)
        return sp_error_set_errno(error, errno, _("volume '%s': fsync"), name);
    return TRUE;
}

gboolean
sp_pool_delete(SpPool *pool, const char *name, GError **error)
{
    g_autoptr(SpLock) lock = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *user = NULL;
    struct stat st;

    if (!sp_volume_check_name(name, error))
        return FALSE;
    lock = sp_lock_acquire(pool->fd, name, TRUE, error);
    if (!lock)
        return FALSE;
    if (!sp_fs_lstat(pool->fd, name, &st, &local)) {
        if (g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
            g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                        _("volume '%s': no such volume in pool '%s'"), name,
                        pool->path);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': not a regular file"), name);
        return FALSE;
    }
    if (sp_pool_find_user(pool, name, &user, &local)) {
        g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                    _("volume '%s': in use as the backing store of volume '%s'"),
                    name, user);
        return FALSE;
    }
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return sp_fs_unlink(pool->fd, name, FALSE, FALSE, error);
}
