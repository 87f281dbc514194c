/* Stop-gap inspector gate (replaced by the full inspector): refuses a qcow2
 * that names a backing file or an external data file of its own. */
#include "image/sp-inspect.h"

#include <string.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"

void
sp_inspect_result_free(SpInspectResult *r)
{
    if (!r)
        return;
    if (r->violations)
        g_ptr_array_unref(r->violations);
    g_free(r);
}

SpInspectResult *
sp_inspect_fd(int fd, SpFormat expected, const SpPolicy *policy, GError **error)
{
    guint8 h[104] = {0};
    gssize n = sp_fs_pread_full(fd, h, sizeof(h), 0, error);
    SpInspectResult *r;

    if (n < 0)
        return NULL;
    r = g_new0(SpInspectResult, 1);
    r->violations = g_ptr_array_new_with_free_func(g_free);
    r->bytes_read = (guint64)n;
    r->format = SP_FORMAT_RAW;
    if (n >= 104 && memcmp(h, "QFI\xfb", 4) == 0) {
        r->format = SP_FORMAT_QCOW2;
        r->virtual_size = GUINT64_FROM_BE(*(guint64 *)(h + 24));
        if (GUINT64_FROM_BE(*(guint64 *)(h + 8)) != 0)
            g_ptr_array_add(r->violations, g_strdup("qcow2-backing-file"));
        if (GUINT32_FROM_BE(*(guint32 *)(h + 4)) >= 3 &&
            (GUINT64_FROM_BE(*(guint64 *)(h + 72)) & 4))
            g_ptr_array_add(r->violations, g_strdup("qcow2-data-file"));
    }
    if (expected != SP_FORMAT_UNKNOWN && !sp_format_satisfies(r->format, expected))
        g_ptr_array_add(r->violations, g_strdup("format-mismatch"));
    r->safe = r->violations->len == 0;
    return r;
}

gboolean
sp_inspect_check(int fd, SpFormat expected, const SpPolicy *policy,
                 const char *what, guint64 *virtual_size, GError **error)
{
    g_autoptr(SpInspectResult) r = sp_inspect_fd(fd, expected, policy, error);

    if (!r)
        return FALSE;
    if (!r->safe) {
        g_ptr_array_add(r->violations, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **)r->violations->pdata);
        g_set_error(error, SP_ERROR, SP_ERROR_UNSAFE_IMAGE,
                    "%s: unsafe image: %s", what, list);
        return FALSE;
    }
    if (virtual_size)
        *virtual_size = r->virtual_size;
    return TRUE;
}
