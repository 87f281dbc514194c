/* Upload and wipe on top of the pool API (see sp-upload.h). */
#include "image/sp-upload.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "image/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

struct SpUpload {
    SpPool *pool;
    const SpPolicy *policy;
    char *name;
    SpLock *lock;
    int fd;
    char *tmpname;
    gboolean committed;
};

static const char *const sp_upload_xattrs[] = {
    SP_XATTR_FORMAT, SP_XATTR_ENCRYPTION, SP_XATTR_BACKING,
    SP_XATTR_BACKING_FORMAT,
};

SpUpload *
sp_upload_begin(SpPool *pool, const SpPolicy *policy, const char *name,
                GError **error)
{
    g_autoptr(SpVolInfo) info = NULL;
    SpUpload *u;

    if (!sp_volume_check_name(name, error))
        return NULL;
    /* the volume must exist and be one of safepool's */
    if (!(info = sp_pool_info(pool, name, error)))
        return NULL;
    u = g_new0(SpUpload, 1);
    u->pool = pool;
    u->policy = policy;
    u->name = g_strdup(name);
    u->fd = -1;
    if (!(u->lock = sp_lock_acquire(sp_pool_fd(pool), name, TRUE, error)) ||
        (u->fd = sp_fs_create_tmp(sp_pool_fd(pool), "upload", &u->tmpname,
                                  error)) < 0 ||
        /* a live temporary is never swept by a concurrent pool start */
        !sp_lock_fd_byte0(u->fd, TRUE, error)) {
        sp_upload_free(u);
        return NULL;
    }
    return u;
}

int
sp_upload_fd(const SpUpload *u)
{
    return u->fd;
}

/* Give @fd the mode, owner and safepool xattrs of @name. */
static gboolean
sp_copy_identity(int dirfd, const char *name, int fd, GError **error)
{
    g_autofd int old = -1;
    struct stat st;
    gsize i;

    if ((old = sp_fs_openat(dirfd, name, O_RDONLY, 0, error)) < 0)
        return FALSE;
    if (fstat(old, &st) < 0)
        return sp_error_set_errno(error, errno, _("volume '%s'"), name);
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': not a regular file"), name);
        return FALSE;
    }
    for (i = 0; i < G_N_ELEMENTS(sp_upload_xattrs); i++) {
        g_autoptr(GError) local = NULL;
        g_autofree char *value = NULL;
        gsize len = 0;

        value = sp_fs_fgetxattr(old, sp_upload_xattrs[i], &len, &local);
        if (!value) {
            if (g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
                continue;
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!sp_fs_fsetxattr(fd, sp_upload_xattrs[i], value, len, error))
            return FALSE;
    }
    return sp_fs_fset_perms(fd, st.st_mode & 07777, st.st_uid, st.st_gid,
                            error);
}

/* Exchange the temporary with the volume, then drop the old content. */
static gboolean
sp_replace(SpPool *pool, const char *tmpname, const char *name, GError **error)
{
    int dirfd = sp_pool_fd(pool);

    if (!sp_fs_exchange(dirfd, tmpname, name, error))
        return FALSE;
    /* @tmpname now holds the old content */
    return sp_fs_unlink(dirfd, tmpname, FALSE, TRUE, error);
}

static SpFormat
sp_info_image_format(const SpVolInfo *info)
{
    if (info->encrypted && info->format == SP_FORMAT_RAW)
        return SP_FORMAT_LUKS;
    return info->format;
}

gboolean
sp_upload_commit(SpUpload *u, GError **error)
{
    g_autoptr(SpVolInfo) info = NULL;
    g_autofree char *what = NULL;

    if (!(info = sp_pool_info(u->pool, u->name, error)))
        return FALSE;
    if (fdatasync(u->fd) < 0)
        return sp_error_set_errno(error, errno, _("upload into volume '%s'"),
                                  u->name);
    what = g_strdup_printf(_("upload into volume '%s'"), u->name);
    if (!sp_inspect_check(u->fd, sp_info_image_format(info), u->policy, what,
                          NULL, error))
        return FALSE;
    if (!sp_copy_identity(sp_pool_fd(u->pool), u->name, u->fd, error) ||
        !sp_replace(u->pool, u->tmpname, u->name, error))
        return FALSE;
    u->committed = TRUE;
    return TRUE;
}

void
sp_upload_free(SpUpload *u)
{
    if (!u)
        return;
    if (u->tmpname && !u->committed)
        sp_fs_unlink(sp_pool_fd(u->pool), u->tmpname, FALSE, TRUE, NULL);
    if (u->fd >= 0)
        close(u->fd);
    g_clear_pointer(&u->lock, sp_lock_release);
    g_free(u->tmpname);
    g_free(u->name);
    g_free(u);
}

static gboolean
sp_wipe_raw(SpPool *pool, const char *name, GError **error)
{
    int dirfd = sp_pool_fd(pool);
    g_autoptr(SpLock) lock = NULL;
    g_autofree char *tmpname = NULL;
    g_autofd int fd = -1;
    g_autofd int old = -1;
    struct stat st;

    if (!(lock = sp_lock_acquire(dirfd, name, TRUE, error)) ||
        (old = sp_fs_openat(dirfd, name, O_RDONLY, 0, error)) < 0)
        return FALSE;
    if (fstat(old, &st) < 0)
        return sp_error_set_errno(error, errno, _("volume '%s'"), name);
    if ((fd = sp_fs_create_tmp(dirfd, "wipe", &tmpname, error)) < 0)
        return FALSE;
    if (!sp_lock_fd_byte0(fd, TRUE, error) ||
        !sp_copy_identity(dirfd, name, fd, error))
        goto fail;
    if (ftruncate(fd, st.st_size) < 0) {
        sp_error_set_errno(error, errno, _("wipe of volume '%s'"), name);
        goto fail;
    }
    if (!sp_replace(pool, tmpname, name, error))
        goto fail;
    return TRUE;

 fail:
    sp_fs_unlink(dirfd, tmpname, FALSE, TRUE, NULL);
    return FALSE;
}

gboolean
sp_wipe(SpPool *pool, const SpPolicy *policy, const char *name,
        GError **error)
{
    g_autoptr(SpVolInfo) info = NULL;
    g_autoptr(SpVolume) def = NULL;

    (void)policy;
    if (!sp_volume_check_name(name, error) ||
        !(info = sp_pool_info(pool, name, error)))
        return FALSE;
    if (info->encrypted || info->format == SP_FORMAT_LUKS) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': wiping an encrypted volume is not "
                      "supported (it would destroy its LUKS header)"), name);
        return FALSE;
    }
    if (info->format == SP_FORMAT_RAW)
        return sp_wipe_raw(pool, name, error);
    /* structured formats: an empty image of the same recorded definition,
     * exchanged with the volume only once built (a failure keeps it) */
    if (!(def = sp_pool_lookup(pool, name, error)))
        return FALSE;
    return sp_pool_recreate(pool, def, error);
}
