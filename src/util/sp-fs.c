/* fd-relative file operations: everything below a pool directory fd is
 * reached through openat2() so no symlink or ".." can lead outside it. */
#include "util/sp-fs.h"

#include <inttypes.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "util/sp-error.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-i18n.h"

/* Deep enough for any real tree, shallow enough to keep the stack bounded. */
#define SP_FS_MAX_DEPTH 128

/* openat2 beneath @dirfd with the pool's resolve rules; -1 + errno. */
static int
sp_openat2_raw(int dirfd, const char *relpath, int flags, mode_t mode)
{
    struct open_how how = {0};
    int fd;
    int tries = 0;
    /* A FIFO or device planted under a volume's name must not block the
     * open: open non-blocking, then restore blocking I/O for the regular
     * files and directories that real callers expect. */
    gboolean add_nonblock = !(flags & (O_NONBLOCK | O_PATH));

    how.flags = (guint64)(flags | O_CLOEXEC | O_NOFOLLOW |
                          (add_nonblock ? O_NONBLOCK : 0));
    /* openat2 refuses a mode without O_CREAT/O_TMPFILE. */
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
        how.mode = mode;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

    /* EAGAIN: a concurrent rename raced the beneath check; retry a little. */
    do {
        fd = (int)syscall(SYS_openat2, dirfd, relpath, &how, sizeof(how));
    } while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 16)));
    if (fd >= 0 && add_nonblock) {
        struct stat st;
        int fl;

        if (fstat(fd, &st) == 0 &&
            (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&
            (fl = fcntl(fd, F_GETFL)) >= 0)
            (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    return fd;
}

static gboolean
sp_fs_set_open_error(GError **error, int errsv, const char *relpath)
{
    switch (errsv) {
    case ELOOP:
    case EXDEV:
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': path leaves the pool or contains a symlink"),
                    relpath);
        return FALSE;
    case EEXIST:
        g_set_error(error, SP_ERROR, SP_ERROR_EXISTS, _("'%s': already exists"),
                    relpath);
        return FALSE;
    case ENOSYS:
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("'%s': openat2 is not supported by this kernel"),
                    relpath);
        return FALSE;
    default:
        return sp_error_set_errno(error, errsv, "'%s'", relpath);
    }
}

/* Whether @relpath names a symlink (resolved beneath @dirfd; O_PATH with
 * O_NOFOLLOW returns the link itself even under RESOLVE_NO_SYMLINKS). */
static gboolean
sp_fs_is_symlink_beneath(int dirfd, const char *relpath)
{
    struct stat st;
    int fd = sp_openat2_raw(dirfd, relpath, O_PATH, 0);
    gboolean is_link;

    if (fd < 0)
        return FALSE;
    is_link = fstat(fd, &st) == 0 && S_ISLNK(st.st_mode);
    close(fd);
    return is_link;
}

static gboolean
sp_fs_check_relpath(const char *relpath, GError **error)
{
    if (!relpath || !*relpath) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("path '': an empty path is not allowed"));
        return FALSE;
    }
    if (relpath[0] == '/') {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': path leaves the pool or contains a symlink"),
                    relpath);
        return FALSE;
    }
    return TRUE;
}

/* A single directory entry name: no '/', not "." or "..". */
static gboolean
sp_fs_check_entry(const char *name, GError **error)
{
    if (!sp_fs_check_relpath(name, error))
        return FALSE;
    if (strchr(name, '/') || g_str_equal(name, ".") ||
        g_str_equal(name, "..")) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': not a single file name"), name);
        return FALSE;
    }
    return TRUE;
}

/* For "a/b/c" open "a/b" beneath @dirfd and point @leaf at "c"; for a plain
 * name return a dup of @dirfd. Lets callers act on the final component
 * without following it while the parents are resolved safely. */
static int
sp_fs_open_parent(int dirfd, const char *relpath, const char **leaf,
                  GError **error)
{
    const char *slash;
    g_autofree char *parent = NULL;
    int fd;

    if (!sp_fs_check_relpath(relpath, error))
        return -1;
    slash = strrchr(relpath, '/');
    if (!slash) {
        *leaf = relpath;
        fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            sp_error_set_errno(error, errno, "'%s'", relpath);
        return fd;
    }
    *leaf = slash + 1;
    if (!sp_fs_check_entry(*leaf, error))
        return -1;
    parent = g_strndup(relpath, (gsize)(slash - relpath));
    return sp_fs_open_subdir(dirfd, parent, error);
}

int
sp_fs_open_dir(const char *path, GError **error)
{
    int fd;

    if (!path || !g_path_is_absolute(path)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("directory '%s': not an absolute path"),
                    path ? path : "");
        return -1;
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int errsv = errno;
        struct stat st;

        /* O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR. */
        if (errsv == ENOTDIR && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            errsv = ELOOP;
        if (errsv == ELOOP)
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("directory '%s': is a symlink"), path);
        else
            sp_error_set_errno(error, errsv, _("directory '%s'"), path);
    }
    return fd;
}

int
sp_fs_openat(int dirfd, const char *relpath, int flags, mode_t mode,
             GError **error)
{
    int fd;

    if (!sp_fs_check_relpath(relpath, error))
        return -1;
    fd = sp_openat2_raw(dirfd, relpath, flags, mode);
    if (fd < 0) {
        int errsv = errno;
        /* O_DIRECTORY on a symlink says ENOTDIR; report it as the symlink
         * it is, so a planted link reads the same everywhere. */
        if (errsv == ENOTDIR && sp_fs_is_symlink_beneath(dirfd, relpath))
            errsv = ELOOP;
        sp_fs_set_open_error(error, errsv, relpath);
    }
    return fd;
}

int
sp_fs_open_subdir(int dirfd, const char *relpath, GError **error)
{
    return sp_fs_openat(dirfd, relpath, O_RDONLY | O_DIRECTORY, 0, error);
}

gboolean
sp_fs_publish(int dirfd, const char *tmpname, const char *name, GError **error)
{
    if (!sp_fs_check_entry(tmpname, error) || !sp_fs_check_entry(name, error))
        return FALSE;
    if (renameat2(dirfd, tmpname, dirfd, name, RENAME_NOREPLACE) < 0) {
        if (errno == EEXIST) {
            g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                        _("'%s': already exists"), name);
            return FALSE;
        }
        return sp_error_set_errno(error, errno, _("publish '%s' as '%s'"),
                                  tmpname, name);
    }
    return TRUE;
}

gboolean
sp_fs_exchange(int dirfd, const char *a, const char *b, GError **error)
{
    if (!sp_fs_check_entry(a, error) || !sp_fs_check_entry(b, error))
        return FALSE;
    if (renameat2(dirfd, a, dirfd, b, RENAME_EXCHANGE) < 0)
        return sp_error_set_errno(error, errno, _("exchange '%s' and '%s'"), a,
                                  b);
    return TRUE;
}

gboolean
sp_fs_unlink(int dirfd, const char *name, gboolean is_dir, gboolean missing_ok,
             GError **error)
{
    g_autofd int pfd = -1;
    const char *leaf = NULL;
    g_autoptr(GError) local = NULL;

    pfd = sp_fs_open_parent(dirfd, name, &leaf, &local);
    if (pfd < 0) {
        if (missing_ok && g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (unlinkat(pfd, leaf, is_dir ? AT_REMOVEDIR : 0) < 0) {
        if (errno == ENOENT && missing_ok)
            return TRUE;
        return sp_error_set_errno(error, errno, _("remove '%s'"), name);
    }
    return TRUE;
}

/* Names in an open directory, read through a fresh fd so @dirfd's offset
 * is left alone; with @files_only just the regular files (and entries the
 * filesystem does not type, for the caller's fstat to settle). */
static GPtrArray *
sp_fs_read_names_typed(int dirfd, const char *what, gboolean files_only,
                       GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    DIR *dir;
    struct dirent *de;
    int fd;

    fd = sp_openat2_raw(dirfd, ".", O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        sp_error_set_errno(error, errno, _("list '%s'"), what);
        return NULL;
    }
    dir = fdopendir(fd);
    if (!dir) {
        sp_error_set_errno(error, errno, _("list '%s'"), what);
        close(fd);
        return NULL;
    }
    for (;;) {
        errno = 0;
        de = readdir(dir);
        if (!de)
            break;
        if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
            continue;
        if (files_only && de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
            continue;
        g_ptr_array_add(names, g_strdup(de->d_name));
    }
    if (errno != 0) {
        sp_error_set_errno(error, errno, _("list '%s'"), what);
        closedir(dir);
        return NULL;
    }
    closedir(dir);
    return g_steal_pointer(&names);
}

static GPtrArray *
sp_fs_read_names(int dirfd, const char *what, GError **error)
{
    return sp_fs_read_names_typed(dirfd, what, FALSE, error);
}

/* Move directory @name of @pfd up into @topfd (the directory the removal
 * started in) under a hidden name, to be removed by a later pass there:
 * trees of any depth go away with at most SP_FS_MAX_DEPTH fds open. */
static gboolean
sp_fs_rm_hoist(int pfd, const char *name, int topfd, const char *path,
               GError **error)
{
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autoptr(GError) local = NULL;

    if (!sp_fs_tmp_take(&t, pfd, name, topfd, "deep", SP_FS_TMP_UNLOCKED,
                        &local)) {
        if (g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   _("remove '%s': "), path);
        return FALSE;
    }
    sp_fs_tmp_keep(&t);
    return TRUE;
}

static gboolean
sp_fs_rm_rf_at(int pfd, const char *name, const char *path, int depth,
               int topfd, gboolean *hoisted, GError **error)
{
    struct stat st;
    g_autofd int fd = -1;

    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return TRUE;
        return sp_error_set_errno(error, errno, _("remove '%s'"), path);
    }
    /* Symlinks, files, devices: unlink the entry itself, never its target. */
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
            return sp_error_set_errno(error, errno, _("remove '%s'"), path);
        return TRUE;
    }
    if (depth >= SP_FS_MAX_DEPTH) {
        *hoisted = TRUE;
        return sp_fs_rm_hoist(pfd, name, topfd, path, error);
    }
    fd = sp_openat2_raw(pfd, name, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            return TRUE;
        return sp_fs_set_open_error(error, errno, path);
    }
    if (depth == 0)
        topfd = fd;
    /* At the top, repeat until no deeper directory was moved up here. */
    for (gboolean again = TRUE; again;) {
        g_autoptr(GPtrArray) names = sp_fs_read_names(fd, path, error);
        gboolean moved = FALSE;

        if (!names)
            return FALSE;
        for (guint i = 0; i < names->len; i++) {
            const char *child = g_ptr_array_index(names, i);
            g_autofree char *cpath = g_strconcat(path, "/", child, NULL);

            if (!sp_fs_rm_rf_at(fd, child, cpath, depth + 1, topfd,
                                depth == 0 ? &moved : hoisted, error))
                return FALSE;
        }
        again = depth == 0 && moved;
    }
    if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return sp_error_set_errno(error, errno, _("remove '%s'"), path);
    return TRUE;
}

gboolean
sp_fs_rm_rf(int dirfd, const char *name, GError **error)
{
    g_autofd int pfd = -1;
    const char *leaf = NULL;
    g_autoptr(GError) local = NULL;

    pfd = sp_fs_open_parent(dirfd, name, &leaf, &local);
    if (pfd < 0) {
        if (g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!sp_fs_check_entry(leaf, error))
        return FALSE;
    return sp_fs_rm_rf_at(pfd, leaf, name, 0, -1, NULL, error);
}

gboolean
sp_fs_fset_perms(int fd, mode_t mode, uid_t uid, gid_t gid, GError **error)
{
    if (fchmod(fd, mode) < 0)
        return sp_error_set_errno(error, errno, _("set mode %04o"),
                                  (unsigned)mode);
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
        return sp_error_set_errno(error, errno, _("set owner %d:%d"), (int)uid,
                                  (int)gid);
    /* chown may drop mode bits on some filesystems; re-apply exactly. */
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchmod(fd, mode) < 0)
        return sp_error_set_errno(error, errno, _("set mode %04o"),
                                  (unsigned)mode);
    return TRUE;
}

gboolean
sp_fs_lstat(int dirfd, const char *name, struct stat *st, GError **error)
{
    g_autofd int pfd = -1;
    const char *leaf = NULL;

    pfd = sp_fs_open_parent(dirfd, name, &leaf, error);
    if (pfd < 0)
        return FALSE;
    if (fstatat(pfd, leaf, st, AT_SYMLINK_NOFOLLOW) < 0)
        return sp_error_set_errno(error, errno, "'%s'", name);
    return TRUE;
}

static gint
sp_fs_cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
sp_fs_list(int dirfd, GError **error)
{
    GPtrArray *names = sp_fs_read_names(dirfd, ".", error);

    if (names)
        g_ptr_array_sort(names, sp_fs_cmp_names);
    return names;
}

GPtrArray *
sp_fs_list_files(int dirfd, GError **error)
{
    GPtrArray *names = sp_fs_read_names_typed(dirfd, ".", TRUE, error);

    if (names)
        g_ptr_array_sort(names, sp_fs_cmp_names);
    return names;
}

gssize
sp_fs_pread_full(int fd, void *buf, gsize len, guint64 off, GError **error)
{
    gsize done = 0;

    while (done < len) {
        ssize_t n =
            pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            sp_error_set_errno(error, errno, _("read at offset %" PRIu64),
                               off + done);
            return -1;
        }
        if (n == 0)
            break;
        done += (gsize)n;
    }
    return (gssize)done;
}

gboolean
sp_fs_write_all(int fd, const void *buf, gsize len, GError **error)
{
    gsize done = 0;

    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sp_error_set_errno(error, errno, _("write"));
        }
        done += (gsize)n;
    }
    return TRUE;
}

gboolean
sp_fs_fsetxattr(int fd, const char *name, const void *value, gsize len,
                GError **error)
{
    if (fsetxattr(fd, name, value, len, 0) < 0)
        return sp_error_set_errno(error, errno, _("set xattr '%s'"), name);
    return TRUE;
}

char *
sp_fs_fgetxattr(int fd, const char *name, gsize *len, GError **error)
{
    for (int tries = 0; tries < 4; tries++) {
        g_autofree char *buf = NULL;
        ssize_t size = fgetxattr(fd, name, NULL, 0);
        ssize_t n;

        if (size >= 0) {
            buf = g_malloc((gsize)size + 1);
            n = fgetxattr(fd, name, buf, (gsize)size);
            if (n >= 0) {
                buf[n] = '\0';
                if (len)
                    *len = (gsize)n;
                return g_steal_pointer(&buf);
            }
        }
        if (errno == ERANGE)
            continue; /* grew between the two calls */
        if (errno == ENODATA) {
            g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                        _("xattr '%s': not set"), name);
            return NULL;
        }
        sp_error_set_errno(error, errno, _("get xattr '%s'"), name);
        return NULL;
    }
    g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                _("get xattr '%s': keeps changing size"), name);
    return NULL;
}
