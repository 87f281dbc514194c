/* What every fuzz target checks of a refusal: the documented error domain
 * and codes, and a message that is one printable line (README: "Errors are
 * one line"). A violation aborts, which libFuzzer reports as a crash. */
#pragma once

#include <glib.h>

#define SP_FUZZ_CODE(code) (1u << (code))

/* @error must be set, in SP_ERROR, with a code in the @codes mask. */
void sp_fuzz_check_refusal(const char *what, const GError *error, guint codes);

/* @message must be one line without control characters. */
void sp_fuzz_check_line(const char *what, const char *message);

/* Called first for every input (cheap): from then on, a GLib critical or
 * warning aborts (a g_return_if_fail hit by the input, a cleanup that
 * failed), and so does anything libxml2 would print to stderr on this
 * thread (its generic error handler): safepool's errors are its own one
 * line, so every libxml2 error must reach safepool's handlers instead. */
void sp_fuzz_setup(void);

/* Print "fuzz: @what: ..." and abort. */
G_NORETURN void sp_fuzz_fail(const char *what, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
