/* safepool's error domain and its mapping to exit codes and JSON names. */
#include "util/sp-error.h"

#include <errno.h>
#include <string.h>

/* An extended error domain: an SP_ERROR error carries the element it is
 * about, so no caller has to recover it from the message text. */
typedef struct {
    char *element;
} SpErrorPrivate;

static void
sp_error_private_init(SpErrorPrivate *priv)
{
    priv->element = NULL;
}

static void
sp_error_private_copy(const SpErrorPrivate *src, SpErrorPrivate *dest)
{
    dest->element = g_strdup(src->element);
}

static void
sp_error_private_clear(SpErrorPrivate *priv)
{
    g_clear_pointer(&priv->element, g_free);
}

/* Where GLib keeps an extended error's private data: just before the
 * GError, aligned as G_DEFINE_EXTENDED_ERROR computes it (that macro
 * fixes the domain's name, which must differ per copy, see below). */
static SpErrorPrivate *
sp_error_priv_of(const GError *error)
{
    const gsize sa = 2 * sizeof(gsize);
    const gsize as = (sizeof(SpErrorPrivate) + (sa - 1)) & -sa;

    return (SpErrorPrivate *)(((guint8 *)error) - as);
}

static void
sp_error_init_cb(GError *error)
{
    sp_error_private_init(sp_error_priv_of(error));
}

static void
sp_error_copy_cb(const GError *src, GError *dest)
{
    sp_error_private_copy(sp_error_priv_of(src), sp_error_priv_of(dest));
}

static void
sp_error_clear_cb(GError *error)
{
    sp_error_private_clear(sp_error_priv_of(error));
}

static SpErrorPrivate *
sp_error_private(const GError *error)
{
    return error && error->domain == SP_ERROR ? sp_error_priv_of(error) : NULL;
}

/* Each copy of the core (the CLI, or each libvirt module loaded into one
 * libvirtd) registers its own domain: a name made unique by the address
 * of this copy's quark, since an extended domain can be registered once
 * per process. Errors never cross copies. */
GQuark
sp_error_quark(void)
{
    static gsize quark;

    if (g_once_init_enter(&quark)) {
        g_autofree char *name =
            g_strdup_printf("safepool-error-%p", (void *)&quark);
        GQuark q = g_error_domain_register(name, sizeof(SpErrorPrivate),
                                           sp_error_init_cb, sp_error_copy_cb,
                                           sp_error_clear_cb);

        g_once_init_leave(&quark, q);
    }
    return (GQuark)quark;
}

void
sp_error_set_element(GError *error, const char *element)
{
    SpErrorPrivate *priv = sp_error_private(error);

    if (!priv)
        return;
    g_free(priv->element);
    priv->element = g_strdup(element);
}

const char *
sp_error_element(const GError *error)
{
    SpErrorPrivate *priv = sp_error_private(error);

    return priv ? priv->element : NULL;
}

void
sp_set_error_element(GError **error, int code, const char *element,
                     const char *fmt, ...)
{
    va_list ap;
    GError *e;

    if (!error || *error)
        return;
    va_start(ap, fmt);
    e = g_error_new_valist(SP_ERROR, code, fmt, ap);
    va_end(ap);
    sp_error_set_element(e, element);
    *error = e;
}

char *
sp_error_escape(const char *text)
{
    g_autofree char *esc = g_strescape(text ? text : "", NULL);

    if (strlen(esc) > 80) {
        esc[72] = '\0';
        return g_strconcat(esc, "...", NULL);
    }
    return g_steal_pointer(&esc);
}

char *
sp_error_one_line(char *text)
{
    for (char *c = text; c && *c; c++) {
        if (g_ascii_iscntrl(*c))
            *c = ' ';
    }
    return text;
}

int
sp_error_exit_code(const GError *error)
{
    if (!error)
        return 0;
    if (error->domain != SP_ERROR)
        return 3;
    switch ((SpErrorCode)error->code) {
    case SP_ERROR_INVALID:
    case SP_ERROR_XML:
    case SP_ERROR_UNSAFE_IMAGE:
    case SP_ERROR_FORMAT_MISMATCH:
    case SP_ERROR_NOT_FOUND:
        return 1;
    case SP_ERROR_USAGE:
        return 2;
    case SP_ERROR_FAILED:
        return 3;
    case SP_ERROR_EXISTS:
    case SP_ERROR_LOCKED:
    case SP_ERROR_IN_USE:
        return 4;
    }
    return 3;
}

const char *
sp_error_code_name(const GError *error)
{
    if (!error)
        return "ok";
    if (error->domain != SP_ERROR)
        return "failed";
    switch ((SpErrorCode)error->code) {
    case SP_ERROR_INVALID:
        return "invalid";
    case SP_ERROR_XML:
        return "xml";
    case SP_ERROR_UNSAFE_IMAGE:
        return "unsafe-image";
    case SP_ERROR_FORMAT_MISMATCH:
        return "format-mismatch";
    case SP_ERROR_NOT_FOUND:
        return "not-found";
    case SP_ERROR_USAGE:
        return "usage";
    case SP_ERROR_FAILED:
        return "failed";
    case SP_ERROR_EXISTS:
        return "exists";
    case SP_ERROR_LOCKED:
        return "locked";
    case SP_ERROR_IN_USE:
        return "in-use";
    }
    return "failed";
}

gboolean
sp_error_set_errno(GError **error, int errsv, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;
    int code;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    switch (errsv) {
    case EEXIST:
        code = SP_ERROR_EXISTS;
        break;
    case ENOENT:
        code = SP_ERROR_NOT_FOUND;
        break;
    case ELOOP:
    case EXDEV:
        code = SP_ERROR_INVALID;
        break;
    case EWOULDBLOCK:
        code = SP_ERROR_LOCKED;
        break;
    default:
        code = SP_ERROR_FAILED;
        break;
    }
    g_set_error(error, SP_ERROR, code, "%s: %s", what, g_strerror(errsv));
    return FALSE;
}
