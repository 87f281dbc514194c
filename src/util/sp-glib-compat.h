/* GLib 2.74 (Debian 12) lacks g_autofd and g_clear_fd (added in 2.76);
 * provide them with the same meaning so code can follow the conventions. */
#pragma once

#include <errno.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#if !GLIB_CHECK_VERSION(2, 75, 1)
/* Close *fd_ptr if >= 0 and set it to -1; errno is preserved. */
static inline gboolean
g_clear_fd(int *fd_ptr, GError **error)
{
    int fd = *fd_ptr;
    int errsv = errno;

    *fd_ptr = -1;
    if (fd < 0)
        return TRUE;
    if (close(fd) < 0 && errno != EINTR) {
        int close_errno = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(close_errno),
                    "close: %s", g_strerror(close_errno));
        errno = errsv;
        return FALSE;
    }
    errno = errsv;
    return TRUE;
}

static inline void
sp_glib_compat_autofd_cleanup(int *fd_ptr)
{
    (void)g_clear_fd(fd_ptr, NULL);
}

#define g_autofd __attribute__((cleanup(sp_glib_compat_autofd_cleanup)))
#endif
