/* Checks shared by the fuzz targets (see fuzz-check.h). */
#include "fuzz-check.h"

#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/sp-error.h"

void
sp_fuzz_fail(const char *what, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "fuzz: %s: %s\n", what, why);
    abort();
}

void
sp_fuzz_check_line(const char *what, const char *message)
{
    for (const char *p = message; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            g_autofree char *shown = g_strescape(message, NULL);
            sp_fuzz_fail(what, "message is not one printable line: '%s'",
                         shown);
        }
    }
}

void
sp_fuzz_check_refusal(const char *what, const GError *error, guint codes)
{
    if (!error)
        sp_fuzz_fail(what, "refused without an error");
    if (error->domain != SP_ERROR || error->code < 0 || error->code >= 32 ||
        !(codes & SP_FUZZ_CODE(error->code)))
        sp_fuzz_fail(what, "unexpected error %s/%d: %s",
                     g_quark_to_string(error->domain), error->code,
                     error->message);
    sp_fuzz_check_line(what, error->message);
}

static void G_GNUC_PRINTF(2, 3)
    libxml2_generic_error(void *ctx, const char *fmt, ...)
{
    g_autofree char *text = NULL;
    va_list ap;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sp_fuzz_fail("libxml2", "wrote to stderr: %s", text);
}

void
sp_fuzz_setup(void)
{
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    xmlSetGenericErrorFunc(NULL, libxml2_generic_error);
}
