/* SELinux labels on file descriptors: libselinux's raw calls, which are
 * plain security.selinux xattr accesses when SELinux is disabled. */
#pragma once

#include <glib.h>

/* SELinux label of an fd via libselinux (plain security.selinux xattr
 * access when SELinux is disabled). *label = NULL when there is none;
 * *unsupported = TRUE when the filesystem has no such xattrs. */
gboolean sp_label_fd_get(int fd, char **label, gboolean *unsupported,
                         GError **error);
gboolean sp_label_fd_set(int fd, const char *label, gboolean *unsupported,
                         const char *what, GError **error);
