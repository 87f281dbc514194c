/* The sandbox as the last line of defence: with the inspector switched off
 * (a test-only build option, -Dtest_hooks=true), images that name host files
 * go straight to qemu-img, which must fail because those files are not in
 * its world, and the new volume must not hold their bytes. The same images
 * without the sandbox show that qemu-img really follows them. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli-util.h"

typedef enum { HOSTILE_QCOW2_BACKING, HOSTILE_VMDK_EXTENT } Hostile;

#define MIB (1024 * 1024)

/* A qcow2 whose backing file is @host (raw), 1 MiB. */
static void
make_qcow2(const char *img, const char *host)
{
    const char *argv[] = {"/usr/bin/qemu-img",
                          "create",
                          "-q",
                          "-f",
                          "qcow2",
                          "-u",
                          "-b",
                          host,
                          "-F",
                          "raw",
                          img,
                          "1M",
                          NULL};
    int status = -1;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                               NULL, NULL, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
}

/* A monolithicFlat vmdk descriptor whose one extent is @host, 1 MiB. */
static void
make_vmdk(const char *img, const char *host)
{
    g_autofree char *d = g_strdup_printf(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
        "parentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n"
        "RW 2048 FLAT \"%s\" 0\n\nddb.virtualHWVersion = \"4\"\n",
        host);

    cli_write_file(img, d, -1);
}

/* Adopt a hostile image of @kind naming @host, clone it to a raw volume
 * with the inspector off; the exit code, and the error in @err. */
static int
clone_hostile(CliEnv *e, Hostile kind, const char *host, char **err)
{
    const char *name = kind == HOSTILE_QCOW2_BACKING ? "h.qcow2" : "h.vmdk";
    const char *fmt = kind == HOSTILE_QCOW2_BACKING ? "qcow2" : "vmdk";
    g_autofree char *img = g_build_filename(e->pool, name, NULL);
    g_autofree char *x = NULL;
    int rc;

    if (kind == HOSTILE_QCOW2_BACKING)
        make_qcow2(img, host);
    else
        make_vmdk(img, host);
    x = cli_write_xml(e, "c.xml",
                      "<volume><name>copy.raw</name><capacity>"
                      "1048576</capacity><target><format "
                      "type='raw'/></target></volume>");
    g_setenv("SAFEPOOL_TEST_SKIP_INSPECTOR", "1", TRUE);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-adopt", "--pool-dir", e->pool,
                            "--format", fmt, name, NULL),
                    ==, 0);
    rc = cli_run(e, NULL, err, "vol-create", "--pool-dir", e->pool, "--from",
                 name, x, NULL);
    g_unsetenv("SAFEPOOL_TEST_SKIP_INSPECTOR");
    g_test_message("%s", *err);
    return rc;
}

static gboolean
has_hooks(void)
{
#ifdef SP_TEST_HOOKS
    if (getuid() == 0)
        return TRUE;
    g_test_skip("needs root (reads /etc/shadow to compare)");
#else
    g_test_skip("needs a build with -Dtest_hooks=true (.ci/run's ASan build)");
#endif
    return FALSE;
}

static void
test_host_file(gconstpointer data)
{
    Hostile kind = GPOINTER_TO_INT(data);
    const char *host =
        kind == HOSTILE_QCOW2_BACKING ? "/etc/shadow" : "/etc/passwd";
    g_autoptr(CliEnv) e = NULL;
    g_autofree char *content = NULL, *err = NULL, *needle = NULL;
    g_autofree char *copy = NULL;

    if (!has_hooks())
        return;
    e = cli_env_new("[volumes]\nformats=raw;qcow2;vmdk\n"
                    "[qemu-img]\nsandbox=true\n");
    copy = g_build_filename(e->pool, "copy.raw", NULL);
    g_assert_true(g_file_get_contents(host, &content, NULL, NULL));
    /* its first line: "root:..." */
    needle = g_strndup(content, strcspn(content, "\n"));
    g_assert_cmpuint(strlen(needle), >, 5);
    g_assert_cmpint(clone_hostile(e, kind, host, &err), ==, 3);
    /* qemu-img itself could not find the file in its world */
    g_assert_nonnull(strstr(err, "qemu-img"));
    g_assert_nonnull(strstr(err, host));
    g_assert_nonnull(strstr(err, "No such file or directory"));
    g_assert_false(g_file_test(copy, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
    g_assert_false(cli_tree_contains(e->pool, needle, NULL));
}

/* Without the sandbox the same image does leak (a host file of the test's
 * own, never /etc/shadow): the test above is not passing by accident. */
static void
test_control(gconstpointer data)
{
    Hostile kind = GPOINTER_TO_INT(data);
    g_autoptr(CliEnv) e = NULL;
    g_autofree char *host = NULL, *copy = NULL, *err = NULL;
    g_autofree char *secret = g_malloc0(MIB);
    const char *marker = "SAFEPOOL-HOST-SECRET-b1f4";

    if (!has_hooks())
        return;
    e = cli_env_new("[volumes]\nformats=raw;qcow2;vmdk\n"
                    "[qemu-img]\nsandbox=false\n");
    host = g_build_filename(e->dir, "host-secret.raw", NULL);
    copy = g_build_filename(e->pool, "copy.raw", NULL);
    memcpy(secret, marker, strlen(marker));
    g_assert_true(g_file_set_contents(host, secret, MIB, NULL));
    g_assert_cmpint(clone_hostile(e, kind, host, &err), ==, 0);
    g_assert_true(cli_tree_contains(e->pool, marker, NULL));
    g_assert_true(g_file_test(copy, G_FILE_TEST_EXISTS));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/sandbox/inspector-off/qcow2-backing-shadow",
                         GINT_TO_POINTER(HOSTILE_QCOW2_BACKING),
                         test_host_file);
    g_test_add_data_func("/sandbox/inspector-off/vmdk-extent-passwd",
                         GINT_TO_POINTER(HOSTILE_VMDK_EXTENT), test_host_file);
    g_test_add_data_func("/sandbox/inspector-off/qcow2-control",
                         GINT_TO_POINTER(HOSTILE_QCOW2_BACKING), test_control);
    g_test_add_data_func("/sandbox/inspector-off/vmdk-control",
                         GINT_TO_POINTER(HOSTILE_VMDK_EXTENT), test_control);
    return g_test_run();
}
