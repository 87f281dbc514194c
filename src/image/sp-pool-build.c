/* Building a pool directory (libvirt's pool-build): every component is
 * opened or made fd by fd with O_NOFOLLOW, and the pool's mode and owner
 * are applied on its fd, so a planted symlink cannot redirect a chown. */
#include "image/sp-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

/* Open (making it if missing) directory @name in @dirfd, never through a
 * symlink. *made tells whether this call created it. */
static int
open_or_make(int dirfd, const char *path, const char *name, mode_t mode,
             gboolean *made, GError **error)
{
    int fd;

    *made = FALSE;
    for (int attempt = 0; attempt < 2; attempt++) {
        fd = openat(dirfd, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == ELOOP || errno == ENOTDIR) {
            g_set_error(
                error, SP_ERROR, SP_ERROR_INVALID,
                _("pool path '%s': '%s' is a symlink or not a directory; "
                  "safepool does not build pools through symlinks"),
                path, name);
            return -1;
        }
        if (errno != ENOENT)
            break;
        if (mkdirat(dirfd, name, mode) == 0)
            *made = TRUE;
        else if (errno != EEXIST) /* EEXIST: made by someone else meanwhile */
            break;
    }
    sp_error_set_errno(error, errno, _("pool path '%s': '%s'"), path, name);
    return -1;
}

/* The threat model: a pool is writable by root only. A mode that lets
 * others write (or a group other than root's) is a pool whose files anyone
 * in that group can swap under safepool, unless the site says otherwise. */
static gboolean
check_mode(const char *path, gint64 mode, gint64 gid, const SpPolicy *policy,
           GError **error)
{
    if (policy && policy->allow_shared_write)
        return TRUE;
    if (mode & S_IWOTH) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("pool path '%s': mode %04o is world-writable; safepool "
                      "pools are writable by root only (policy key "
                      "pools.allow_shared_write)"),
                    path, (unsigned)mode);
        return FALSE;
    }
    if ((mode & S_IWGRP) && gid != 0) {
        g_set_error(
            error, SP_ERROR, SP_ERROR_INVALID,
            _("pool path '%s': mode %04o is writable by group %" G_GINT64_FORMAT
              " (not root's); safepool pools are writable by root "
              "only (policy key pools.allow_shared_write)"),
            path, (unsigned)mode, gid);
        return FALSE;
    }
    return TRUE;
}

int
sp_pool_build(const char *path, gint64 mode, gint64 uid, gint64 gid,
              gboolean nocow, const SpPolicy *policy, GError **error)
{
    g_autofree char *norm = sp_fs_normalize_abs(path, error);
    g_auto(GStrv) parts = NULL;
    g_autofd int fd = -1;
    gboolean made = FALSE;
    struct stat st;
    guint n;

    if (!norm)
        return -1;
    if (mode >= 0 && (mode & ~(gint64)0777)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("pool path '%s': mode %04o has bits beyond 0777"), path,
                    (unsigned)mode);
        return -1;
    }
    /* A mode that will be refused is refused before anything is made. */
    if (mode >= 0 && !check_mode(path, mode, gid >= 0 ? gid : 0, policy, error))
        return -1;
    parts = g_strsplit(norm + 1, "/", -1);
    n = g_strv_length(parts);
    if (n == 0 || !*parts[0]) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("pool path '%s': not a directory below '/'"), path);
        return -1;
    }
    fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        sp_error_set_errno(error, errno, "/");
        return -1;
    }
    for (guint i = 0; i < n; i++) {
        /* Parents get the usual 0755; the pool itself starts private and
         * gets its configured mode below, on the fd. */
        int next = open_or_make(fd, norm, parts[i], i + 1 < n ? 0755 : 0700,
                                &made, error);
        if (next < 0)
            return -1;
        close(fd);
        fd = next;
    }
    if (fstat(fd, &st) < 0) {
        sp_error_set_errno(error, errno, _("pool path '%s'"), path);
        return -1;
    }
    /* libvirt's rule: an existing directory keeps its mode unless the pool
     * names one; a new one gets the pool's, default 0711. */
    if (mode < 0)
        mode = made ? 0711 : (gint64)(st.st_mode & 07777);
    if (!check_mode(path, mode, gid >= 0 ? gid : (gint64)st.st_gid, policy,
                    error))
        return -1;
    if (!sp_fs_fset_perms(fd, (mode_t)mode, uid >= 0 ? (uid_t)uid : (uid_t)-1,
                          gid >= 0 ? (gid_t)gid : (gid_t)-1, error)) {
        g_prefix_error(error, _("pool path '%s': "), path);
        return -1;
    }
    if (nocow) {
        int attr = 0;
        /* Only filesystems with COW (btrfs) know the flag; elsewhere it is
         * meaningless, as libvirt treats it. */
        if (ioctl(fd, FS_IOC_GETFLAGS, &attr) == 0) {
            attr |= FS_NOCOW_FL;
            if (ioctl(fd, FS_IOC_SETFLAGS, &attr) < 0 && errno != EOPNOTSUPP &&
                errno != ENOTTY && errno != EINVAL) {
                sp_error_set_errno(error, errno, _("pool path '%s': nocow"),
                                   path);
                return -1;
            }
        }
    }
    return 0;
}

gboolean
sp_pool_remove(const char *path, GError **error)
{
    g_autofree char *norm = sp_fs_normalize_abs(path, error);
    g_autofree char *parent = NULL;
    g_autofree char *leaf = NULL;
    g_autofd int fd = -1;
    g_autofd int pfd = -1;

    if (!norm)
        return FALSE;
    fd = sp_fs_open_dir(norm, error);
    if (fd < 0)
        return FALSE;
    /* Only the lock file of an otherwise empty pool: a lock anyone holds
     * (an operation in progress) keeps it, and the rmdir then fails. */
    if (!sp_lock_remove_file(fd, error)) {
        g_prefix_error(error, _("pool path '%s': "), path);
        return FALSE;
    }
    parent = g_path_get_dirname(norm);
    leaf = g_path_get_basename(norm);
    pfd = sp_fs_open_dir(parent, error);
    if (pfd < 0)
        return FALSE;
    if (unlinkat(pfd, leaf, AT_REMOVEDIR) < 0)
        return sp_error_set_errno(error, errno, _("pool path '%s': remove"),
                                  path);
    return TRUE;
}
