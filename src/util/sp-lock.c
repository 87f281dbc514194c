/* OFD locks: one lock file per pool, one byte per volume name. OFD locks
 * belong to the open file description, so two acquires in one process
 * conflict just as two processes do, and closing the fd releases them. */
#include "util/sp-lock.h"

#include <errno.h>
#include <fcntl.h>
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

/* FALSE with errno set; EAGAIN/EACCES mean busy. */
static gboolean
sp_lock_range(int fd, guint64 off, gboolean exclusive)
{
    struct flock fl = {0};

    fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)off;
    fl.l_len = 1;
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
    g_autofd int fd = -1;
    SpLock *lock;

    fd = sp_fs_openat(dirfd, SP_LOCK_FILE, O_RDWR | O_CREAT, 0600, error);
    if (fd < 0)
        return NULL;
    if (!sp_lock_range(fd, sp_lock_offset(name), exclusive)) {
        if (errno == EAGAIN || errno == EACCES)
            g_set_error(error, SP_ERROR, SP_ERROR_LOCKED,
                        _("volume '%s': locked by another operation"), name);
        else
            sp_error_set_errno(error, errno, _("volume '%s': lock"), name);
        return NULL;
    }
    lock = g_new0(SpLock, 1);
    lock->fd = g_steal_fd(&fd);
    return lock;
}

void
sp_lock_release(SpLock *lock)
{
    if (!lock)
        return;
    g_clear_fd(&lock->fd, NULL);
    g_free(lock);
}

gboolean
sp_lock_fd_byte0(int fd, gboolean exclusive, GError **error)
{
    if (!sp_lock_range(fd, 0, exclusive)) {
        if (errno == EAGAIN || errno == EACCES) {
            g_set_error(error, SP_ERROR, SP_ERROR_LOCKED,
                        _("file: locked by another operation"));
            return FALSE;
        }
        return sp_error_set_errno(error, errno, _("file: lock"));
    }
    return TRUE;
}
