/* What the CLI shows people: vol-list sizes as virsh shows them (exact
 * with --bytes and --json); progress of copies on a terminal, and only
 * there unless asked. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "cli-util.h"

/* The line of @out that starts with @name, split on runs of blanks. */
static char **
row(const char *out, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], name)) {
            g_autoptr(GRegex) re = g_regex_new(" {2,}", 0, 0, NULL);
            return g_regex_split(re, lines[i], 0);
        }
    }
    g_assert_not_reached();
}

static void
test_list_sizes(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *big = cli_write_xml(
        e, "big.xml",
        "<volume><name>big.img</name><capacity unit='G'>4</capacity>"
        "<allocation>0</allocation>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *small = cli_write_xml(
        e, "small.xml",
        "<volume><name>small.img</name><capacity unit='KiB'>1536</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *out = NULL;
    g_autofree char *bytes = NULL;
    g_autofree char *json = NULL;

    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, big, NULL),
        ==, 0);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool,
                            small, NULL),
                    ==, 0);

    g_assert_cmpint(
        cli_run(e, &out, NULL, "vol-list", "--pool-dir", e->pool, NULL), ==, 0);
    g_auto(GStrv) b = row(out, "big.img");
    g_assert_cmpstr(b[2], ==, "4.00 GiB");
    /* sparse: at most the block the record's xattrs may take */
    g_assert_true(
        g_regex_match_simple("^[0-9]+\\.[0-9]{2} (B|KiB)$", b[3], 0, 0));
    g_auto(GStrv) s = row(out, "small.img");
    g_assert_cmpstr(s[2], ==, "1.50 MiB");
    g_assert_cmpstr(s[3], ==, "1.50 MiB"); /* fully allocated, as libvirt */

    g_assert_cmpint(cli_run(e, &bytes, NULL, "vol-list", "--bytes",
                            "--pool-dir", e->pool, NULL),
                    ==, 0);
    g_auto(GStrv) bb = row(bytes, "big.img");
    g_assert_cmpstr(g_strstrip(bb[2]), ==, "4294967296");
    g_auto(GStrv) sb = row(bytes, "small.img");
    g_assert_cmpstr(g_strstrip(sb[2]), ==, "1572864");

    /* --json stays exact whatever the text shows */
    g_assert_cmpint(cli_run(e, &json, NULL, "--json", "vol-list", "--pool-dir",
                            e->pool, NULL),
                    ==, 0);
    g_assert_nonnull(strstr(json, "\"capacity\" : 4294967296"));
    g_assert_null(strstr(json, "GiB"));
}

/* A pool with a raw volume holding 8 MiB of data and a qcow2 one. */
static CliEnv *
clone_env(void)
{
    CliEnv *e = cli_env_new(NULL);
    g_autofree char *raw = cli_write_xml(
        e, "raw.xml",
        "<volume><name>src.img</name><capacity unit='M'>64</capacity>"
        "<allocation>0</allocation><target><format "
        "type='raw'/></target></volume>");
    g_autofree char *q = cli_write_xml(
        e, "q.xml",
        "<volume><name>src.qcow2</name><capacity unit='M'>64</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_autofree char *path = g_build_filename(e->pool, "src.img", NULL);
    g_autofree char *data = g_malloc(8 << 20);
    FILE *f;

    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, raw, NULL),
        ==, 0);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, q, NULL),
        ==, 0);
    memset(data, 0x5a, 8 << 20);
    f = fopen(path, "r+");
    g_assert_nonnull(f);
    g_assert_cmpuint(fwrite(data, 1, 8 << 20, f), ==, 8 << 20);
    fclose(f);
    return e;
}

static char *
clone_xml(CliEnv *e, const char *name, const char *format)
{
    g_autofree char *x = g_strdup_printf(
        "<volume><name>%s</name><capacity unit='M'>64</capacity>"
        "<target><format type='%s'/></target></volume>",
        name, format);
    g_autofree char *f = g_strdup_printf("%s.xml", name);

    return cli_write_xml(e, f, x);
}

static void
test_progress_clone(void)
{
    g_autoptr(CliEnv) e = clone_env();
    g_autofree char *a = clone_xml(e, "a.img", "raw");
    g_autofree char *b = clone_xml(e, "b.img", "raw");
    g_autofree char *c = clone_xml(e, "c.qcow2", "qcow2");
    g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
    g_autofree char *err3 = NULL, *err4 = NULL;

    /* asked for: on stderr, stdout stays the path */
    g_assert_cmpint(cli_run(e, &out, &err, "vol-create", "--pool-dir", e->pool,
                            "--from", "src.img", "--progress", a, NULL),
                    ==, 0);
    g_assert_true(g_str_has_suffix(g_strstrip(out), "/a.img"));
    g_assert_nonnull(
        strstr(err, "src.img -> a.img: 64.00 MiB / 64.00 MiB (100%), "));
    g_assert_nonnull(strstr(err, "/s, "));
    /* stdout not a terminal, not asked for: nothing */
    g_assert_cmpint(cli_run(e, &out2, &err2, "vol-create", "--pool-dir",
                            e->pool, "--from", "src.img", b, NULL),
                    ==, 0);
    g_assert_cmpstr(err2, ==, "");
    /* a qcow2 clone goes through qemu-img convert: its -p is read */
    g_assert_cmpint(cli_run(e, NULL, &err3, "vol-create", "--pool-dir", e->pool,
                            "--from", "src.qcow2", "--progress", c, NULL),
                    ==, 0);
    g_assert_nonnull(strstr(err3, "src.qcow2 -> c.qcow2: "));
    g_assert_nonnull(strstr(err3, "(100%)"));
    g_assert_cmpint(cli_run(e, NULL, &err4, "vol-create", "--pool-dir", e->pool,
                            "--from", "src.img", "--progress", "--no-progress",
                            b, NULL),
                    ==, 2);
    g_assert_nonnull(strstr(err4, "contradict"));
}

/* On a terminal (script(1) gives the command a pty) the meter is drawn
 * without asking; --no-progress turns it off. */
static void
test_progress_terminal(void)
{
    g_autoptr(CliEnv) e = clone_env();
    g_autofree char *a = clone_xml(e, "a.img", "raw");
    g_autofree char *b = clone_xml(e, "b.img", "raw");
    const char *bin = g_getenv("SAFEPOOL_BIN");
    g_autofree char *cmd_a = g_strdup_printf(
        "%s --config %s vol-create --pool-dir %s --from src.img %s", bin,
        e->conf, e->pool, a);
    g_autofree char *cmd_b =
        g_strdup_printf("%s --config %s vol-create --no-progress --pool-dir %s "
                        "--from src.img %s",
                        bin, e->conf, e->pool, b);
    const char *argv_a[] = {"/usr/bin/script", "-qec", cmd_a, "/dev/null",
                            NULL};
    const char *argv_b[] = {"/usr/bin/script", "-qec", cmd_b, "/dev/null",
                            NULL};
    g_autofree char *tty_a = NULL, *tty_b = NULL;
    int status = 0;

    if (!g_file_test("/usr/bin/script", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("no script(1)");
        return;
    }
    g_assert_true(g_spawn_sync(NULL, (char **)argv_a, NULL, 0, NULL, NULL,
                               &tty_a, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(
        strstr(tty_a, "src.img -> a.img: 64.00 MiB / 64.00 MiB (100%)"));
    g_assert_true(g_spawn_sync(NULL, (char **)argv_b, NULL, 0, NULL, NULL,
                               &tty_b, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    g_assert_null(strstr(tty_b, "(100%)"));
    g_assert_nonnull(strstr(tty_b, "/b.img"));
}

/* vtpm save and restore: the archive's bytes. */
static void
test_progress_vtpm(void)
{
    g_autoptr(CliEnv) e =
        cli_env_new("[vtpm]\nswtpm_user=root\nswtpm_group=root\n");
    g_autofree char *root = g_build_filename(e->dir, "swtpm", NULL);
    g_autofree char *tar = g_build_filename(e->dir, "state.tar", NULL);
    g_autofree char *key = g_build_filename(e->dir, "key", NULL);
    g_autofree char *err = NULL, *err2 = NULL, *out = NULL;
    const char *uuid = "8f1a56e2-2b2c-4c1e-9c44-6a1c8a2f4c11";

    g_assert_cmpint(cli_run(e, &out, NULL, "vtpm", "create", "--root", root,
                            "--uuid", uuid, NULL),
                    ==, 0);
    cli_write_file(key, "0123456789abcdef0123456789abcdef", 32);
    g_assert_cmpint(g_chmod(key, 0600), ==, 0);
    g_assert_cmpint(cli_run(e, NULL, &err, "vtpm", "save", "--root", root,
                            "--uuid", uuid, "--key-file", key, "--output", tar,
                            "--progress", NULL),
                    ==, 0);
    g_assert_nonnull(strstr(err, "state.tar: "));
    g_assert_nonnull(strstr(err, "(100%)"));
    g_assert_cmpint(cli_run(e, NULL, &err2, "vtpm", "restore", "--root", root,
                            "--key-file", key, "--input", tar, "--progress",
                            NULL),
                    ==, 0);
    g_assert_nonnull(strstr(err2, "(100%)"));
    /* list copies nothing: no such option */
    g_assert_cmpint(cli_run(e, NULL, NULL, "vtpm", "list", "--root", root,
                            "--progress", NULL),
                    ==, 2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/output/list-sizes", test_list_sizes);
    g_test_add_func("/output/progress-clone", test_progress_clone);
    g_test_add_func("/output/progress-terminal", test_progress_terminal);
    g_test_add_func("/output/progress-vtpm", test_progress_vtpm);
    return g_test_run();
}
