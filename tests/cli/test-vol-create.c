/* safepool vol-create end to end with the real qemu-img: every kind of
 * volume, LUKS secrets that never show up in argv/env/files, and failure
 * paths that leave nothing under a public name. */
#include <errno.h>
#include <stdlib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-util.h"

#define PASS "correct-horse,battery:staple"

static char *
pool_file(CliEnv *e, const char *name)
{
    return g_build_filename(e->pool, name, NULL);
}

static void
assert_info(JsonObject *info, const char *format, gint64 vsize)
{
    g_assert_nonnull(info);
    g_assert_cmpstr(json_object_get_string_member(info, "format"), ==, format);
    g_assert_cmpint(json_object_get_int_member(info, "virtual-size"), ==,
                    vsize);
}

/* Whether `qemu-img map` can read the encrypted image with secret @obj. */
static gboolean
qemu_img_map_ok(const char *obj, const char *opts)
{
    const char *argv[] = {"/usr/bin/qemu-img",
                          "map",
                          "--output=json",
                          "--object",
                          obj,
                          "--image-opts",
                          opts,
                          NULL};
    int status = -1;

    g_assert_true(
        g_spawn_sync(NULL, (char **)argv, NULL,
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Long: one volume of each kind (raw, qcow2, overlay, LUKS...), each
 * created and checked with qemu-img in turn; the XML literals make it long. */
static void
test_kinds(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *raw = cli_write_xml(
        e, "raw.xml",
        "<volume><name>r.img</name><capacity unit='MiB'>64</capacity>"
        "<allocation unit='KiB'>512</allocation>"
        "<target><format "
        "type='raw'/><permissions><mode>0640</mode></permissions>"
        "</target></volume>");
    g_autofree char *q = cli_write_xml(
        e, "q.xml",
        "<volume><name>q.qcow2</name><capacity unit='G'>2</capacity>"
        "<target><format type='qcow2'/><compat>1.1</compat><clusterSize "
        "unit='KiB'>128</clusterSize>"
        "<features><lazy_refcounts/></features></target></volume>");
    g_autofree char *bxml = g_strdup_printf(
        "<volume><name>b.qcow2</name><capacity unit='G'>4</capacity>"
        "<target><format type='qcow2'/></target>"
        "<backingStore><path>%s/q.qcow2</path><format "
        "type='qcow2'/></backingStore>"
        "</volume>",
        e->pool);
    g_autofree char *b = cli_write_xml(e, "b.xml", bxml);
    g_autofree char *out = NULL;
    g_autofree char *rp = pool_file(e, "r.img");
    g_autofree char *qp = pool_file(e, "q.qcow2");
    g_autofree char *bp = pool_file(e, "b.qcow2");
    g_autoptr(JsonObject) ri = NULL;
    g_autoptr(JsonObject) qi = NULL;
    g_autoptr(JsonObject) bi = NULL;
    JsonObject *spec;
    GStatBuf st;

    g_assert_cmpint(
        cli_run(e, &out, NULL, "vol-create", "--pool-dir", e->pool, raw, NULL),
        ==, 0);
    g_assert_cmpstr(g_strstrip(out), ==, rp);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, q, NULL),
        ==, 0);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, b, NULL),
        ==, 0);

    ri = cli_qemu_img_info(rp, NULL);
    assert_info(ri, "raw", 64 << 20);
    g_assert_cmpint(g_stat(rp, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0640);
    g_assert_cmpuint((guint64)st.st_blocks * 512, >=, 512 << 10);

    qi = cli_qemu_img_info(qp, NULL);
    assert_info(qi, "qcow2", 2LL << 30);
    g_assert_cmpint(json_object_get_int_member(qi, "cluster-size"), ==,
                    128 << 10);
    spec = json_object_get_object_member(
        json_object_get_object_member(qi, "format-specific"), "data");
    g_assert_cmpstr(json_object_get_string_member(spec, "compat"), ==, "1.1");
    g_assert_true(json_object_get_boolean_member(spec, "lazy-refcounts"));
    g_assert_cmpint(g_stat(qp, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0600); /* policy default */

    bi = cli_qemu_img_info(bp, NULL);
    assert_info(bi, "qcow2", 4LL << 30);
    g_assert_cmpstr(json_object_get_string_member(bi, "backing-filename"), ==,
                    qp);
    g_assert_cmpstr(
        json_object_get_string_member(bi, "backing-filename-format"), ==,
        "qcow2");

    /* vol-list reports the recorded formats and sizes. */
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(cli_run(e, &out, NULL, "--json", "vol-list", "--pool-dir",
                            e->pool, NULL),
                    ==, 0);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(parser, out, -1, NULL));
    JsonArray *list = json_node_get_array(json_parser_get_root(parser));
    g_assert_cmpuint(json_array_get_length(list), ==, 3);
    JsonObject *first = json_array_get_object_element(list, 0);
    g_assert_cmpstr(json_object_get_string_member(first, "name"), ==,
                    "b.qcow2");
    g_assert_cmpstr(json_object_get_string_member(first, "format"), ==,
                    "qcow2");
    g_assert_cmpint(json_object_get_int_member(first, "capacity"), ==,
                    4LL << 30);
    g_assert_cmpstr(
        json_object_get_string_member(
            json_object_get_object_member(first, "backing"), "path"),
        ==, qp);

    /* The name is taken: exit 4. */
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, q, NULL),
        ==, 4);
}

/* Tests whose qemu-img stand-in records what it was given, or acts on the
 * pool directory behind safepool's back, run it unconfined (sandbox=false):
 * inside the sandbox it could do neither, which cli-sandbox tests. */

/* The product itself retries qemu's PBKDF calibration flake (see
 * pbkdf-flake-*), so no retry here. */
static void
create_luks(CliEnv *e, const char *keyfile, const char *xml)
{
    g_autofree char *err = NULL;

    int rc = cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool,
                     "--secret-file", keyfile, xml, NULL);

    g_auto(GStrv) lines = g_strsplit(err, "\n", -1);

    /* Only the (retried) calibration warning may show up. */
    for (gsize i = 0; lines[i]; i++) {
        if (*lines[i])
            g_assert_true(
                g_str_has_prefix(lines[i], "safepool: warning: volume '"));
    }
    g_assert_cmpint(rc, ==, 0);
}

/* Long: one secret followed from the file through qemu-img to the image
 * and out of every place it must not be, as a single story. */
static void
test_luks_secret(void)
{
    g_autoptr(CliEnv) e0 = cli_env_new(NULL);
    /* A qemu-img that records its own argv and environment, then runs the
     * real one. */
    g_autofree char *body = g_strdup_printf(
        "#!/bin/sh\n"
        "cat /proc/$$/cmdline >> '%s/cmdline.log'; echo >> '%s/cmdline.log'\n"
        "cat /proc/$$/environ >> '%s/environ.log'; echo >> '%s/environ.log'\n"
        "exec /usr/bin/qemu-img \"$@\"\n",
        e0->logs, e0->logs, e0->logs, e0->logs);
    g_autofree char *wrapper = cli_write_script(e0, "qemu-img-log", body);
    g_autofree char *extra =
        g_strdup_printf("[qemu-img]\nqemu_img=%s\nsandbox=false\n", wrapper);
    g_autofree char *keyfile = g_build_filename(e0->dir, "key", NULL);
    g_autofree char *badkey = g_build_filename(e0->dir, "badkey", NULL);
    g_autofree char *lx = NULL;
    g_autofree char *qx = NULL;
    g_autofree char *lp = pool_file(e0, "l.img");
    g_autofree char *qp = pool_file(e0, "lq.qcow2");
    g_autofree char *opts = NULL;
    g_autofree char *secret_obj = NULL;
    g_autofree char *bad_obj = NULL;
    g_autofree char *err = NULL;
    g_autofree char *log = NULL;
    g_autofree char *conf = NULL;

    /* Reuse e0's dirs with a config naming the wrapper. */
    conf = g_strdup_printf("[luks]\niter_time=10\n%s", extra);
    cli_write_file(e0->conf, conf, -1);
    cli_write_file(keyfile, PASS, -1);
    cli_write_file(badkey, "wrong", -1);
    lx = cli_write_xml(
        e0, "l.xml",
        "<volume><name>l.img</name><capacity unit='M'>32</capacity>"
        "<target><format type='raw'/><encryption format='luks'>"
        "<secret type='passphrase' "
        "uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>"
        "</encryption></target></volume>");
    qx = cli_write_xml(
        e0, "lq.xml",
        "<volume><name>lq.qcow2</name><capacity unit='M'>32</capacity>"
        "<target><format type='qcow2'/><encryption format='luks'>"
        "<secret type='passphrase' "
        "usage='lq'/></encryption></target></volume>");

    /* Without a secret: usage error, nothing made. */
    g_assert_cmpint(
        cli_run(e0, NULL, &err, "vol-create", "--pool-dir", e0->pool, lx, NULL),
        ==, 2);
    g_assert_nonnull(strstr(err, "--secret-file"));
    g_assert_false(g_file_test(lp, G_FILE_TEST_EXISTS));

    create_luks(e0, keyfile, lx);
    create_luks(e0, keyfile, qx);

    /* The LUKS volume opens with the passphrase, not with another one. */
    secret_obj = g_strdup_printf("secret,id=s,file=%s", keyfile);
    bad_obj = g_strdup_printf("secret,id=s,file=%s", badkey);
    opts = g_strdup_printf("driver=luks,key-secret=s,file.filename=%s", lp);
    {
        const char *good[] = {"--object", secret_obj, "--image-opts", NULL};
        const char *bad[] = {"--object", bad_obj, "--image-opts", NULL};
        g_autoptr(JsonObject) li = cli_qemu_img_info(opts, good);
        assert_info(li, "luks", 32 << 20);
        /* info does not unlock a keyslot; map reads data, so it must. */
        g_assert_true(qemu_img_map_ok(secret_obj, opts));
        g_assert_false(qemu_img_map_ok(bad_obj, opts));
        (void)bad;
    }
    {
        g_autoptr(JsonObject) qi = cli_qemu_img_info(qp, NULL);
        assert_info(qi, "qcow2", 32 << 20);
        g_assert_true(json_object_get_boolean_member(qi, "encrypted"));
    }
    /* Resize of the encrypted qcow2 needs and uses the key. */
    g_assert_cmpint(cli_run(e0, NULL, NULL, "vol-resize", "--pool-dir",
                            e0->pool, "lq.qcow2", "64M", NULL),
                    ==, 2);
    g_assert_cmpint(cli_run(e0, NULL, NULL, "vol-resize", "--pool-dir",
                            e0->pool, "--secret-file", keyfile, "lq.qcow2",
                            "64M", NULL),
                    ==, 0);
    {
        g_autoptr(JsonObject) qi = cli_qemu_img_info(qp, NULL);
        assert_info(qi, "qcow2", 64 << 20);
    }

    /* The wrapper ran (so the logs are meaningful) and saw /dev/fd/3. */
    g_autofree char *cmdlog = g_build_filename(e0->logs, "cmdline.log", NULL);
    gsize loglen = 0;
    g_assert_true(g_file_get_contents(cmdlog, &log, &loglen, NULL));
    /* argv entries are NUL-separated in /proc/PID/cmdline */
    g_assert_nonnull(
        memmem(log, loglen, "file=/dev/fd/3", strlen("file=/dev/fd/3")));
    /* The passphrase is in no argv, no environment, no file but the key. */
    g_assert_false(cli_tree_contains(e0->logs, PASS, NULL));
    g_assert_false(cli_tree_contains(e0->logs, "correct-horse", NULL));
    g_assert_false(cli_tree_contains(e0->dir, "correct-horse", keyfile));
}

/* A qemu-img that fails: exit 3, no public file, no temporary. */
static void
test_qemu_img_fails(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *fake = cli_write_script(
        e, "qemu-img-fail",
        "#!/bin/sh\necho 'qemu-img: fake failure' >&2\nexit 1\n");
    /* (sandboxed: the policy's qemu-img is shown to the sandbox) */
    g_autofree char *conf = g_strdup_printf("[qemu-img]\nqemu_img=%s\n", fake);
    g_autofree char *x = cli_write_xml(
        e, "q.xml",
        "<volume><name>q.qcow2</name><capacity unit='M'>1</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_autofree char *err = NULL;
    g_autofree char *qp = pool_file(e, "q.qcow2");

    cli_write_file(e->conf, conf, -1);
    g_assert_cmpint(
        cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 3);
    g_assert_nonnull(strstr(err, "q.qcow2"));
    g_assert_nonnull(strstr(err, "fake failure"));
    g_assert_cmpint(strchr(err, '\n') - err, ==,
                    (gssize)strlen(err) - 1); /* one line */
    g_assert_false(g_file_test(qp, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
}

/* ENOSPC on a 2 MiB tmpfs pool. */
static void
test_enospc(void)
{
    g_autoptr(CliEnv) e = NULL;
    g_autofree char *x = NULL;
    g_autofree char *err = NULL;
    g_autofree char *rp = NULL;

    if (getuid() != 0) {
        g_test_skip("needs root (mount)");
        return;
    }
    e = cli_env_new(NULL);
    g_assert_cmpint(mount("tmpfs", e->pool, "tmpfs", 0, "size=2M,mode=0755"),
                    ==, 0);
    x = cli_write_xml(
        e, "big.xml",
        "<volume><name>big.img</name><capacity unit='M'>8</capacity>"
        "<allocation unit='M'>8</allocation><target><format "
        "type='raw'/></target></volume>");
    rp = pool_file(e, "big.img");
    g_assert_cmpint(
        cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 3);
    g_assert_nonnull(strstr(err, "big.img"));
    g_assert_false(g_file_test(rp, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
    g_assert_cmpint(umount(e->pool), ==, 0);
}

/* kill -9 mid-create: nothing public; the next pool open sweeps the temp. */
static void
test_kill_mid_create(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *pidfile = g_build_filename(e->dir, "child.pid", NULL);
    g_autofree char *body = g_strdup_printf(
        "#!/bin/sh\necho $$ > '%s'\nsleep 30\nexit 1\n", pidfile);
    g_autofree char *slow = cli_write_script(e, "qemu-img-slow", body);
    g_autofree char *conf =
        g_strdup_printf("[qemu-img]\nqemu_img=%s\nsandbox=false\n", slow);
    g_autofree char *x = cli_write_xml(
        e, "q.xml",
        "<volume><name>k.qcow2</name><capacity unit='M'>1</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_autofree char *kp = pool_file(e, "k.qcow2");
    g_autofree char *child = NULL;
    const char *argv[] = {g_getenv("SAFEPOOL_BIN"),
                          "--config",
                          e->conf,
                          "vol-create",
                          "--pool-dir",
                          e->pool,
                          x,
                          NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    GPid pid;
    int status;

    cli_write_file(e->conf, conf, -1);
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
    for (int i = 0; i < 200 && !g_file_test(pidfile, G_FILE_TEST_EXISTS); i++)
        g_usleep(50000);
    g_assert_true(g_file_test(pidfile, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 1);
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    /* Stop the orphaned fake qemu-img too. */
    g_assert_true(g_file_get_contents(pidfile, &child, NULL, NULL));
    kill((pid_t)atoi(child), SIGKILL);

    g_assert_false(g_file_test(kp, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 1);
    g_assert_cmpint(
        cli_run(e, &out, NULL, "vol-list", "--pool-dir", e->pool, NULL), ==, 0);
    g_assert_null(strstr(out, "safepool-tmp"));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
}

/* qemu's PBKDF calibration flake: retried for a LUKS create, at most 20
 * attempts. The real qemu-img behind the fake may flake too (up to half
 * the creates on this machine), hence a range of calls. */
static void
pbkdf_case(guint failures, int expect_rc, guint min_calls, guint max_calls)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *count = g_build_filename(e->dir, "calls", NULL);
    g_autofree char *body = g_strdup_printf(
        "#!/bin/sh\necho x >> %s\n"
        "n=$(wc -l < %s)\n"
        "if [ \"$1\" = create ] && [ \"$n\" -le %u ]; then\n"
        /* like qemu: the half-made file is deleted on this failure */
        "  eval t=\\${$(($# - 1))}; rm -f \"$t\"\n"
        "  echo \"qemu-img: $t: Unable to get accurate CPU usage\" >&2; exit "
        "1\n"
        "fi\nexec /usr/bin/qemu-img \"$@\"\n",
        count, count, failures);
    g_autofree char *fake = cli_write_script(e, "qemu-img-pbkdf", body);
    g_autofree char *conf = g_strdup_printf(
        "[luks]\niter_time=10\n[qemu-img]\nqemu_img=%s\nsandbox=false\n", fake);
    g_autofree char *key = g_build_filename(e->dir, "key", NULL);
    g_autofree char *x = cli_write_xml(
        e, "l.xml",
        "<volume><name>l.img</name><capacity unit='M'>16</capacity>"
        "<target><format type='raw'/><encryption format='luks'>"
        "<secret type='passphrase' "
        "uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>"
        "</encryption></target></volume>");
    g_autofree char *err = NULL;
    g_autofree char *calls = NULL;
    g_autofree char *lp = pool_file(e, "l.img");
    int rc;

    cli_write_file(e->conf, conf, -1);
    cli_write_file(key, "pbkdf-test-pass", -1);
    rc = cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool,
                 "--secret-file", key, x, NULL);
    g_test_message("stderr: %s", err);
    g_assert_cmpint(rc, ==, expect_rc);
    g_assert_true(g_file_get_contents(count, &calls, NULL, NULL));
    g_assert_cmpuint(strlen(calls) / 2, >=, min_calls);
    g_assert_cmpuint(strlen(calls) / 2, <=, max_calls);
    g_assert_cmpint(g_file_test(lp, G_FILE_TEST_EXISTS), ==, expect_rc == 0);
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
    if (expect_rc != 0)
        g_assert_nonnull(strstr(err, "Unable to get accurate CPU usage"));
}

static void
test_pbkdf_retried(void)
{
    pbkdf_case(2, 0, 3, 20); /* fails twice, a later create works */
}

static void
test_pbkdf_bounded(void)
{
    pbkdf_case(20, 3, 20, 20); /* fails every time: reported, nothing left */
}

/* qemu-img (or anyone) swapping the temporary's inode is caught: what would
 * be published never got the fd's mode, xattrs and inspection. */
static void
test_tmp_replaced(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *fake = cli_write_script(
        e, "qemu-img-swap",
        "#!/bin/sh\n/usr/bin/qemu-img \"$@\" || exit $?\n"
        "eval t=\\${$(($# - 1))}\n"
        "cp \"$t\" \"$t.x\" && rm \"$t\" && mv \"$t.x\" \"$t\"\n");
    g_autofree char *conf =
        g_strdup_printf("[qemu-img]\nqemu_img=%s\nsandbox=false\n", fake);
    g_autofree char *x = cli_write_xml(
        e, "q.xml",
        "<volume><name>q.qcow2</name><capacity unit='M'>1</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_autofree char *err = NULL;
    g_autofree char *qp = pool_file(e, "q.qcow2");

    cli_write_file(e->conf, conf, -1);
    g_assert_cmpint(
        cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 3);
    g_assert_nonnull(strstr(err, "removed or replaced while qemu-img ran"));
    g_assert_false(g_file_test(qp, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vol-create/kinds", test_kinds);
    g_test_add_func("/vol-create/luks-secret-never-leaks", test_luks_secret);
    g_test_add_func("/vol-create/qemu-img-fails", test_qemu_img_fails);
    g_test_add_func("/vol-create/pbkdf-flake-retried", test_pbkdf_retried);
    g_test_add_func("/vol-create/tmp-replaced", test_tmp_replaced);
    g_test_add_func("/vol-create/pbkdf-flake-bounded", test_pbkdf_bounded);
    g_test_add_func("/vol-create/enospc", test_enospc);
    g_test_add_func("/vol-create/kill-mid-create", test_kill_mid_create);
    return g_test_run();
}
