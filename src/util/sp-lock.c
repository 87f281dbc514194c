/* OFD locks: one lock file per pool, one byte per volume name. OFD locks
 * belong to the open file description, so two acquires in one process
 * conflict just as two processes do, and closing the fd releases them. */
#include "util/sp-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

struct SpLock {
    int fd;
};

/* FNV-1a 64: stable across processes and versions, unlike g_str_hash's
 * 32 bits; the top bits are cleared to keep the offset a valid off_t. */
static guint64
sp_lock_offset(const char *name)
{
    guint64 h = 0xcbf29ce484222325ULL;

    for (const guchar *p = (const guchar *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h & 0x3fffffffffffffffULL;
}

/* FALSE with errno set; EAGAIN/EACCES mean busy. @len 0 = to the end. */
static gboolean
sp_lock_range(int fd, guint64 off, guint64 len, gboolean exclusive)
{
    struct flock fl = {0};

    fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)off;
    fl.l_len = (off_t)len;
    fl.l_pid = 0; /* required for OFD locks */
    while (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
        if (errno != EINTR)
            return FALSE;
    }
    return TRUE;
}

SpLock *
sp_lock_acquire(int dirfd, const char *name, gboolean exclusive, GError **error)
{
    return sp_lock_acquire_wait(dirfd, name, exclusive, 0, error);
}

#define SP_LOCK_POLL_MS 20

SpLock *
sp_lock_acquire_wait(int dirfd, const char *name, gboolean exclusive,
                     guint timeout_ms, GError **error)
{
    g_autofd int fd = -1;
    SpLock *lock;
    guint waited = 0;

    fd = sp_fs_openat(dirfd, SP_LOCK_FILE, O_RDWR | O_CREAT, 0600, error);
    if (fd < 0)
        return NULL;
    while (!sp_lock_range(fd, sp_lock_offset(name), 1, exclusive)) {
        if (errno != EAGAIN && errno != EACCES) {
            sp_error_set_errno(error, errno, _("volume '%s': lock"), name);
            return NULL;
        }
        if (waited >= timeout_ms) {
            g_set_error(error, SP_ERROR, SP_ERROR_LOCKED,
                        _("volume '%s': locked by another operation"), name);
            return NULL;
        }
        g_usleep(SP_LOCK_POLL_MS * 1000);
        waited += SP_LOCK_POLL_MS;
    }
    lock = g_new0(SpLock, 1);
    lock->fd = g_steal_fd(&fd);
    return lock;
}

gboolean
sp_lock_remove_file(int dirfd, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofd int fd = -1;
    struct stat a, b;

    fd = sp_fs_openat(dirfd, SP_LOCK_FILE, O_RDWR, 0, &local);
    if (fd < 0) {
        if (g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!sp_lock_range(fd, 0, 0, TRUE)) {
        if (errno == EAGAIN || errno == EACCES) {
            g_set_error(error, SP_ERROR, SP_ERROR_LOCKED,
                        _("'%s': an operation holds a lock"), SP_LOCK_FILE);
            return FALSE;
        }
        return sp_error_set_errno(error, errno, _("'%s': lock"), SP_LOCK_FILE);
    }
    /* Only the very file we hold. */
    if (fstat(fd, &a) < 0 ||
        fstatat(dirfd, SP_LOCK_FILE, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
        a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        return TRUE;
    return sp_fs_unlink(dirfd, SP_LOCK_FILE, FALSE, TRUE, error);
}

void
sp_lock_release(SpLock *lock)
{
    if (!lock)
        return;
    g_clear_fd(&lock->fd, NULL);
    g_free(lock);
}
