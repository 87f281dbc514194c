/* Changing existing volumes, each under the volume's exclusive lock:
 * resize, delete, and adopting a file that has no recorded identity. */
#include "image/sp-pool-private.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "inspect/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

static gboolean
sp_resize_check(SpPool *pool, const char *name, guint64 capacity,
                GError **error)
{
    if (capacity == 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': capacity 0 is not allowed"), name);
        return FALSE;
    }
    if (capacity > pool->policy->max_capacity) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': capacity %" PRIu64
                      " exceeds the policy maximum %" PRIu64),
                    name, capacity, pool->policy->max_capacity);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_pool_resize(SpPool *pool, const char *name, guint64 capacity,
               SpResizeFlags flags, const SpSecret *secret, GError **error)
{
    g_autoptr(SpLock) lock = NULL;
    g_autoptr(SpVolume) vol = NULL;
    g_autoptr(SpPlan) plan = NULL;
    g_autofree char *path = NULL;
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), name);
    g_autofd int fd = -1;
    g_autofd int bfd = -1;
    SpRun run = SP_RUN_INIT;
    struct stat st;

    if (!sp_volume_check_name(name, error) ||
        !sp_resize_check(pool, name, capacity, error))
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
                    _("volume '%s': no recorded format (not created by "
                      "safepool; see 'safepool vol-adopt')"),
                    name);
        return FALSE;
    }
    path = g_build_filename(pool->path, name, NULL);
    plan = sp_plan_resize(pool->policy, vol, path, vol->capacity, capacity,
                          flags & SP_RESIZE_SHRINK, flags & SP_RESIZE_ALLOCATE,
                          error);
    if (!plan)
        return FALSE;
    /* qemu-img is about to open the image: it must be what was recorded. */
    if (sp_volume_image_format(vol) != SP_FORMAT_RAW &&
        !sp_pool_check_image(pool, fd, vol, what, NULL, &bfd, error))
        return FALSE;
    run.target_fd = fd;
    run.secret = secret;
    if (bfd >= 0)
        sp_run_add_input(&run, vol->backing_path, bfd);
    if (!sp_pool_run_plan(pool, plan, &run, error))
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
    struct stat st;

    if (!sp_volume_check_name(name, error))
        return FALSE;
    lock = sp_lock_acquire(pool->fd, name, TRUE, error);
    if (!lock)
        return FALSE;
    if (!sp_fs_lstat(pool->fd, name, &st, &local)) {
        sp_pool_lookup_error(pool, name, g_steal_pointer(&local), error);
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': not a regular file"), name);
        return FALSE;
    }
    if (!sp_pool_check_unused(pool, name, error))
        return FALSE;
    return sp_fs_unlink(pool->fd, name, FALSE, FALSE, error);
}

gboolean
sp_pool_adopt(SpPool *pool, const char *name, SpFormat format, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), name);
    g_autofree char *path = g_build_filename(pool->path, name, NULL);
    g_autoptr(SpIdentity) have = NULL;
    g_autoptr(SpIdentity) id = NULL;
    g_autoptr(SpVolume) vol = sp_volume_new();
    g_autoptr(SpLock) lock = NULL;
    g_autoptr(SpInspectResult) r = NULL;
    g_autofd int fd = -1;
    struct stat st;

    if (!sp_volume_check_name(name, error))
        return FALSE;
    if (!(lock = sp_lock_acquire(pool->fd, name, TRUE, error)) ||
        (fd = sp_pool_open_volume(pool, name, O_RDONLY, &st, error)) < 0 ||
        !sp_pool_check_single_link(&st, what, error) ||
        !(have = sp_identity_read(fd, SP_IDENTITY_SUMMARY, error)))
        return FALSE;
    if (sp_identity_recorded(have)) {
        g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                    _("%s: already has a recorded format (%s)"), what,
                    sp_identity_get(have, SP_ID_FORMAT)
                        ? sp_identity_get(have, SP_ID_FORMAT)
                        : "unknown");
        return FALSE;
    }
    vol->name = g_strdup(name);
    vol->format = format;
    vol->has_mode = TRUE;
    vol->mode = st.st_mode & 07777;
    vol->owner = st.st_uid;
    vol->group = st.st_gid;
    /* The policy's formats and limits, and a standalone image: a backing
     * file named by a file of unknown origin is never followed. */
    if (!sp_pool_check_image(pool, fd, vol, what, &r, NULL, error))
        return FALSE;
    vol->capacity = r->virtual_size;
    vol->has_capacity = TRUE;
    if (!sp_volume_check_policy(vol, pool->policy, pool->path, NULL, error) ||
        !(id = sp_identity_for_volume(vol, path, vol->mode, error)) ||
        !sp_identity_apply(id, fd, what, error))
        return FALSE;
    if (fsync(fd) < 0)
        return sp_error_set_errno(error, errno, "%s: fsync", what);
    return TRUE;
}
