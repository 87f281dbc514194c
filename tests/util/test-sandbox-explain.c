/* How a failed sandboxed run is told (sp_sandbox_explain): bubblewrap's
 * own failure names the sandbox and the fix; a file swapped during set-up
 * says so without advising to switch the sandbox off; a program's output
 * that merely holds "bwrap: " stays the program's. */
#include <string.h>

#include "util/sp-error.h"
#include "util/sp-sandbox.h"

static char *
explain(const char *message)
{
    g_autoptr(GError) e =
        g_error_new_literal(SP_ERROR, SP_ERROR_FAILED, message);

    sp_sandbox_explain(e);
    return g_strdup(e->message);
}

static void
test_explain(void)
{
    g_autofree char *ns = explain("qemu-img failed (exit 1): bwrap: Creating "
                                  "new namespace failed: Operation not "
                                  "permitted");
    g_autofree char *exe = explain("bwrap: Failed to execute child process "
                                   "“/usr/bin/bwrap” (No such file)");
    g_autofree char *race = explain("qemu-img failed (exit 1): bwrap: Race "
                                    "condition binding dirfd");
    g_autofree char *gone = explain("qemu-img failed (exit 1): bwrap: Can't "
                                    "find source path /p/x: No such file");
    g_autofree char *prog = explain("qemu-img failed (exit 1): qemu-img: "
                                    "Could not open 'bwrap: x'");

    g_assert_true(g_str_has_prefix(ns, "the sandbox for helper programs "
                                       "cannot be set up (bwrap: Creating"));
    g_assert_nonnull(strstr(ns, "qemu-img.sandbox=false"));
    g_assert_true(g_str_has_prefix(exe, "the sandbox for helper programs "));
    g_assert_true(g_str_has_prefix(race, "a file of the operation was "
                                         "replaced or removed"));
    g_assert_null(strstr(race, "sandbox=false"));
    g_assert_true(g_str_has_prefix(gone, "a file of the operation was "));
    g_assert_cmpstr(prog, ==,
                    "qemu-img failed (exit 1): qemu-img: Could "
                    "not open 'bwrap: x'");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/explain", test_explain);
    return g_test_run();
}
