/* safepool's error domain: one enum of codes, each mapped to the CLI exit
 * status of interface.md and to a stable name used in JSON output. */
#pragma once

#include <glib.h>

#include "util/sp-glib-compat.h" /* g_autofd, g_clear_fd on GLib 2.74 */

#define SP_ERROR (sp_error_quark())

typedef enum {
    SP_ERROR_INVALID = 1,     /* input rejected by schema or policy   -> 1 */
    SP_ERROR_XML,             /* malformed XML or schema violation    -> 1 */
    SP_ERROR_UNSAFE_IMAGE,    /* the inspector refused an image       -> 1 */
    SP_ERROR_FORMAT_MISMATCH, /* image is not the format it claims    -> 1 */
    SP_ERROR_NOT_FOUND,       /* named volume/state does not exist    -> 1 */
    SP_ERROR_USAGE,           /* bad command line                     -> 2 */
    SP_ERROR_FAILED,          /* a system call or a tool failed       -> 3 */
    SP_ERROR_EXISTS,          /* the name exists                      -> 4 */
    SP_ERROR_LOCKED,          /* another operation holds the lock     -> 4 */
    SP_ERROR_IN_USE,          /* e.g. volume is another's backing     -> 4 */
} SpErrorCode;

GQuark sp_error_quark(void);

/* Set @error (if non-NULL and unset) like g_set_error, and record
 * @element, the element of volume or domain XML the error is about
 * ("capacity", "backingStore/format"), in the error itself. */
void sp_set_error_element(GError **error, int code, const char *element,
                          const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Attach @element to an existing SP_ERROR error (replacing any). */
void sp_error_set_element(GError *error, const char *element);

/* The element an SP_ERROR error is about, or NULL. */
const char *sp_error_element(const GError *error);

/* Untrusted @text (may be NULL) as an error message shows it: escaped
 * with g_strescape, so no control character breaks the one-line message,
 * and cut after 72 characters ("..."). */
char *sp_error_escape(const char *text);

/* Replace control characters in @text (a library's message that quotes
 * its input, such as GLib's, json-glib's or libarchive's) with spaces, in
 * place, so it fits a one-line error. Returns @text. */
char *sp_error_one_line(char *text);

/* Exit status of interface.md for @error (3 for foreign domains). */
int sp_error_exit_code(const GError *error);

/* Stable machine-readable name, e.g. "invalid", "exists". */
const char *sp_error_code_name(const GError *error);

/* Set @error from errno with "<what>: <strerror>"; ENOSPC etc. -> FAILED,
 * EEXIST -> EXISTS, ENOENT -> NOT_FOUND, ELOOP/EXDEV -> INVALID. Returns FALSE.
 */
gboolean sp_error_set_errno(GError **error, int errsv, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
