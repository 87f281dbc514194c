/* The corpus through the real CLI: `safepool validate` exits 0 for every
 * file of tests/data/vol-valid and 1 for every file of vol-invalid, with the
 * expected element named on stderr and in --json. */
#include <string.h>
#include <sys/wait.h>

#include <glib.h>

static char *
data_path(const char *a, const char *b)
{
    return g_build_filename(g_getenv("SAFEPOOL_SRCDIR"), "tests", "data", a, b,
                            NULL);
}

static int
run_validate(const char *file, gboolean json, char **out, char **err)
{
    g_autofree char *policy = data_path("policy-test.conf", NULL);
    const char *argv[] = {g_getenv("SAFEPOOL_BIN"),
                          "--config",
                          policy,
                          json ? "--json" : "validate",
                          json ? "validate" : "--pool-dir",
                          json ? "--pool-dir" : "/var/lib/safepool-test-pool",
                          json ? "/var/lib/safepool-test-pool" : file,
                          json ? file : NULL,
                          NULL};
    int status = -1;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, out,
                               err, &status, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void
test_valid(void)
{
    g_autofree char *dir = data_path("vol-valid", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    guint count = 0;

    g_assert_nonnull(d);
    while ((n = g_dir_read_name(d))) {
        g_autofree char *f = g_build_filename(dir, n, NULL);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        int rc = run_validate(f, FALSE, &out, &err);
        if (rc != 0)
            g_error("%s: exit %d: %s", n, rc, err);
        count++;
    }
    g_assert_cmpuint(count, >=, 24);
}

static void
test_invalid(void)
{
    g_autofree char *exp_path = data_path("vol-invalid", "EXPECTED");
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint count = 0;

    g_assert_true(g_file_get_contents(exp_path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = NULL;
        g_autofree char *file = NULL;
        g_autofree char *needle = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *jout = NULL;
        g_autofree char *jerr = NULL;
        int rc;

        if (!*lines[i] || lines[i][0] == '#')
            continue;
        f = g_strsplit(lines[i], " ", 2);
        file = data_path("vol-invalid", f[0]);
        needle = g_strdup_printf("volume XML element '%s", f[1]);
        rc = run_validate(file, FALSE, &out, &err);
        if (rc != 1)
            g_error("%s: exit %d, expected 1", f[0], rc);
        if (!g_str_has_prefix(err, "safepool: ") || !strstr(err, needle))
            g_error("%s: stderr '%s' lacks '%s'", f[0], err, needle);
        /* one line: nothing else (libxml2) writes to stderr */
        if (strchr(err, '\n') != err + strlen(err) - 1)
            g_error("%s: stderr is not one line: '%s'", f[0], err);
        rc = run_validate(file, TRUE, &jout, &jerr);
        g_assert_cmpint(rc, ==, 1);
        if (!strstr(jout, "\"valid\" : false") &&
            !strstr(jout, "\"valid\":false"))
            g_error("%s: --json output: %s", f[0], jout);
        count++;
    }
    g_assert_cmpuint(count, >=, 44);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/validate-cli/valid", test_valid);
    g_test_add_func("/validate-cli/invalid", test_invalid);
    return g_test_run();
}
