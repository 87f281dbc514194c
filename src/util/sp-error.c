/* safepool's error domain and its mapping to exit codes and JSON names. */
#include "util/sp-error.h"

#include <errno.h>
#include <string.h>

G_DEFINE_QUARK(safepool-error-quark, sp_error)

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
    case SP_ERROR_INVALID: return "invalid";
    case SP_ERROR_XML: return "xml";
    case SP_ERROR_UNSAFE_IMAGE: return "unsafe-image";
    case SP_ERROR_FORMAT_MISMATCH: return "format-mismatch";
    case SP_ERROR_NOT_FOUND: return "not-found";
    case SP_ERROR_USAGE: return "usage";
    case SP_ERROR_FAILED: return "failed";
    case SP_ERROR_EXISTS: return "exists";
    case SP_ERROR_LOCKED: return "locked";
    case SP_ERROR_IN_USE: return "in-use";
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
