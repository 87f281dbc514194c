/* UUIDs as libvirt writes and takes them: with or without dashes, any
 * case, made canonical. */
#include "conf/sp-uuid.h"

#include <string.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

char *
sp_uuid_normalize(const char *uuid, GError **error)
{
    g_autofree char *shown = NULL;
    GString *out;
    guint ndigits = 0;

    if (!uuid || strlen(uuid) > 64)
        goto bad;
    out = g_string_sized_new(37);
    for (const char *p = uuid; *p; p++) {
        if (*p == '-')
            continue;
        if (!g_ascii_isxdigit(*p)) {
            g_string_free(out, TRUE);
            goto bad;
        }
        if (ndigits == 8 || ndigits == 12 || ndigits == 16 || ndigits == 20)
            g_string_append_c(out, '-');
        g_string_append_c(out, g_ascii_tolower(*p));
        ndigits++;
    }
    if (ndigits != 32) {
        g_string_free(out, TRUE);
        goto bad;
    }
    return g_string_free(out, FALSE);

bad:
    shown = sp_error_escape(uuid);
    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("uuid '%s': not 32 hexadecimal digits"), shown);
    return NULL;
}
