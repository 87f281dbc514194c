/* Paths the user names: lexical checks on absolute path strings (config
 * values, backing paths) and the one way input files are opened and read. */
#include "util/sp-fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

char *
sp_fs_normalize_abs(const char *path, GError **error)
{
    g_autoptr(GString) out = NULL;
    g_auto(GStrv) parts = NULL;

    if (!path || !*path) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("path '': an empty path is not allowed"));
        return NULL;
    }
    for (const char *p = path; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            g_autofree char *esc = g_strescape(path, NULL);
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("path '%s': control characters are not allowed"),
                        esc);
            return NULL;
        }
    }
    if (path[0] != '/') {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("path '%s': not an absolute path"), path);
        return NULL;
    }
    out = g_string_new(NULL);
    parts = g_strsplit(path, "/", -1);
    for (gsize i = 0; parts[i]; i++) {
        if (!*parts[i] || g_str_equal(parts[i], "."))
            continue;
        if (g_str_equal(parts[i], "..")) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("path '%s': '..' is not allowed"), path);
            return NULL;
        }
        g_string_append_c(out, '/');
        g_string_append(out, parts[i]);
    }
    if (out->len == 0)
        g_string_append_c(out, '/');
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
sp_fs_relative_to(const char *root, const char *path)
{
    g_autofree char *r = sp_fs_normalize_abs(root, NULL);
    g_autofree char *p = sp_fs_normalize_abs(path, NULL);
    gsize rlen;

    if (!r || !p)
        return NULL;
    if (g_str_equal(r, "/"))
        return g_str_equal(p, "/") ? NULL : g_strdup(p + 1);
    rlen = strlen(r);
    /* "/a/bc" shares the prefix "/a/b" but is not below it. */
    if (strncmp(p, r, rlen) != 0 || p[rlen] != '/' || p[rlen + 1] == '\0')
        return NULL;
    return g_strdup(p + rlen + 1);
}

int
sp_fs_open_input(const char *path, const char *what, GError **error)
{
    g_autofd int fd = -1;
    struct stat st;

    if (!path || !*path) {
        g_set_error(error, SP_ERROR, SP_ERROR_USAGE, _("%s '': no file named"),
                    what);
        return -1;
    }
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int errsv = errno;

        if (errsv == ELOOP)
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("%s '%s': is a symlink"), what, path);
        else
            sp_error_set_errno(error, errsv, _("%s '%s'"), what, path);
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        sp_error_set_errno(error, errno, _("%s '%s'"), what, path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s '%s': not a regular file"), what, path);
        return -1;
    }
    return g_steal_fd(&fd);
}

char *
sp_fs_read_input(const char *path, const char *what, gsize max, gsize *len,
                 GError **error)
{
    g_autofd int fd = sp_fs_open_input(path, what, error);
    g_autoptr(GByteArray) buf = NULL;
    guint8 chunk[65536];

    if (fd < 0)
        return NULL;
    buf = g_byte_array_new();
    /* Until EOF, but never more than one byte past @max: a file that is
     * (or grows) too big is refused without being read whole. */
    for (;;) {
        gsize want = MIN(sizeof(chunk), max + 1 - buf->len);
        gssize n = sp_fs_pread_full(fd, chunk, want, buf->len, error);

        if (n < 0) {
            g_prefix_error(error, _("%s '%s': "), what, path);
            return NULL;
        }
        g_byte_array_append(buf, chunk, (guint)n);
        if (buf->len > max) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("%s '%s': larger than %zu bytes"), what, path, max);
            return NULL;
        }
        if ((gsize)n < want)
            break;
    }
    if (len)
        *len = buf->len;
    g_byte_array_append(buf, (const guint8 *)"", 1);
    return (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
}
