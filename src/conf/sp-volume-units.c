/* libvirt's size units for <capacity>, <allocation>, <clusterSize>: the
 * same table and overflow rule as libvirt's virScaleInteger. */
#include "conf/sp-volume.h"

#include <string.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

gboolean
sp_volume_unit_scale(const char *unit, guint64 *scale)
{
    static const char letters[] = "kmgtpe";
    const char *pos;
    guint64 base;
    guint64 s = 1;

    if (!unit || !*unit || g_ascii_strcasecmp(unit, "b") == 0 ||
        g_ascii_strcasecmp(unit, "byte") == 0 ||
        g_ascii_strcasecmp(unit, "bytes") == 0) {
        *scale = 1;
        return TRUE;
    }
    pos = strchr(letters, g_ascii_tolower(unit[0]));
    if (!pos)
        return FALSE;
    if (unit[1] == '\0' || g_ascii_strcasecmp(unit + 1, "ib") == 0)
        base = 1024;
    else if (g_ascii_tolower(unit[1]) == 'b' && unit[2] == '\0')
        base = 1000;
    else
        return FALSE;
    for (const char *p = letters; p <= pos; p++)
        s *= base;
    *scale = s;
    return TRUE;
}

gboolean
sp_volume_parse_scaled(const char *element, const char *text, const char *unit,
                       guint64 *out, GError **error)
{
    g_autofree char *t = g_strstrip(g_strdup(text ? text : ""));
    /* both are the document's text: quoted escaped (one-line errors) */
    g_autofree char *shown = sp_error_escape(t);
    g_autofree char *shown_unit = sp_error_escape(unit);
    const char *p = t;
    guint64 value = 0;
    guint64 scale;

    if (*t == '-') {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume XML element '%s': '%s' is negative"), element,
                    shown);
        return FALSE;
    }
    if (!*p) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume XML element '%s': a size is required"), element);
        return FALSE;
    }
    for (; *p; p++) {
        guint d;
        if (!g_ascii_isdigit(*p)) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume XML element '%s': '%s' is not an unsigned "
                          "decimal integer"),
                        element, shown);
            return FALSE;
        }
        d = (guint)(*p - '0');
        if (value > (G_MAXUINT64 - d) / 10) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume XML element '%s': '%s' is too large"),
                        element, shown);
            return FALSE;
        }
        value = value * 10 + d;
    }
    if (!sp_volume_unit_scale(unit, &scale)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume XML element '%s': unit '%s' is not known"),
                    element, shown_unit);
        return FALSE;
    }
    if (value > G_MAXUINT64 / scale) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume XML element '%s': '%s %s' is 2^64 bytes or "
                      "more"),
                    element, shown, shown_unit);
        return FALSE;
    }
    *out = value * scale;
    return TRUE;
}
