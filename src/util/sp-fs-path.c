/* Lexical checks on absolute path strings (config values, backing paths):
 * normalisation and "is it below this root", without touching the disk. */
#include "util/sp-fs.h"

#include <string.h>

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
