/* SELinux labels on file descriptors: libselinux's raw calls, which are
 * plain security.selinux xattr accesses when SELinux is disabled. */
#include "util/sp-label.h"

#include <errno.h>
#include <selinux/selinux.h>
#include <string.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

static gboolean
is_unsupported(int errsv)
{
    return errsv == ENOTSUP || errsv == EOPNOTSUPP;
}

gboolean
sp_label_fd_get(int fd, char **label, gboolean *unsupported, GError **error)
{
    char *con = NULL;

    *label = NULL;
    *unsupported = FALSE;
    if (fgetfilecon_raw(fd, &con) < 0) {
        int errsv = errno;

        if (errsv == ENODATA)
            return TRUE;
        if (is_unsupported(errsv)) {
            *unsupported = TRUE;
            return TRUE;
        }
        return sp_error_set_errno(error, errsv, _("read SELinux label"));
    }
    *label = g_strdup(con);
    freecon(con);
    return TRUE;
}

gboolean
sp_label_fd_set(int fd, const char *label, gboolean *unsupported,
                const char *what, GError **error)
{
    *unsupported = FALSE;
    /* The fd was opened with O_NOFOLLOW: we label the entry itself. */
    if (fsetfilecon_raw(fd, label) < 0) {
        int errsv = errno;

        if (is_unsupported(errsv)) {
            *unsupported = TRUE;
            return TRUE;
        }
        return sp_error_set_errno(error, errsv, _("'%s': set label '%s'"), what,
                                  label);
    }
    return TRUE;
}
