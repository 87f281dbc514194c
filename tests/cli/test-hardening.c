/* Hardening II through the CLI: each test is one defect of the outside
 * attack (its number in the test path), run as a user would run it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli-util.h"

static char *
pool_file(CliEnv *e, const char *name)
{
    return g_build_filename(e->pool, name, NULL);
}

static void
make_raw(CliEnv *e, const char *name, const char *size)
{
    const char *fname = "make.xml";
    g_autofree char *xml = g_strdup_printf(
        "<volume><name>%s</name><capacity unit='M'>%s</capacity>"
        "<allocation>0</allocation></volume>",
        name, size);
    g_autofree char *x = cli_write_xml(e, fname, xml);

    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 0);
}

/* 3: a file with more than one link is never a clone source or a backing
 * store (its inode is reachable from outside the pool's control), and a
 * file with no record is "unknown" everywhere. */
static void
test_hardlink_and_unknown(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *base = pool_file(e, "base.img");
    g_autofree char *outside = g_build_filename(e->dir, "outside.img", NULL);
    g_autofree char *over = NULL, *over_xml = NULL;
    g_autofree char *clone = NULL;
    g_autofree char *err = NULL;
    g_autofree char *out = NULL;

    make_raw(e, "base.img", "4");
    g_assert_cmpint(link(base, outside), ==, 0);
    clone = cli_write_xml(
        e, "clone.xml",
        "<volume><name>c.img</name><capacity unit='M'>4</capacity></volume>");
    g_assert_cmpint(cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool,
                            "--from", "base.img", clone, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "hard links"));
    g_clear_pointer(&err, g_free);
    over_xml = g_strdup_printf(
        "<volume><name>o.qcow2</name><capacity unit='M'>4</capacity>"
        "<target><format type='qcow2'/></target><backingStore><path>%s</path>"
        "<format type='raw'/></backingStore></volume>",
        base);
    over = cli_write_xml(e, "over.xml", over_xml);
    g_assert_cmpint(
        cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool, over, NULL),
        ==, 1);
    g_assert_nonnull(strstr(err, "hard links"));
    g_clear_pointer(&err, g_free);

    /* copied in by hand: listed, but as unknown, and no backing store */
    g_assert_cmpint(unlink(outside), ==, 0);
    g_assert_cmpint(removexattr(base, "user.safepool.format"), ==, 0);
    g_assert_cmpint(
        cli_run(e, &out, NULL, "vol-list", "--pool-dir", e->pool, NULL), ==, 0);
    g_assert_nonnull(strstr(out, "unknown"));
    g_assert_cmpint(
        cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool, over, NULL),
        ==, 1);
    g_assert_nonnull(strstr(err, "no recorded format"));
    g_clear_pointer(&err, g_free);
    /* nor is the pool's lock file */
    {
        g_autofree char *lock = pool_file(e, ".safepool.lock");
        g_autofree char *xml = g_strdup_printf(
            "<volume><name>l.qcow2</name><capacity unit='M'>4</capacity>"
            "<target><format type='qcow2'/></target><backingStore><path>%s"
            "</path><format type='raw'/></backingStore></volume>",
            lock);
        g_autofree char *x = cli_write_xml(e, "lock.xml", xml);
        g_assert_cmpint(cli_run(e, NULL, &err, "vol-create", "--pool-dir",
                                e->pool, x, NULL),
                        ==, 1);
        g_assert_nonnull(strstr(err, "not a volume of the pool"));
    }
}

/* 23: vol-adopt records a hand-copied image after inspecting it as the
 * format named, and refuses it as anything else. */
static void
test_adopt(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *img = pool_file(e, "cloud.qcow2");
    g_autofree char *err = NULL;
    g_autofree char *out = NULL;
    const char *argv[] = {
        "/usr/bin/qemu-img", "create", "-q", "-f", "qcow2", img, "16M", NULL};
    char fmt[32] = {0};

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                               NULL, NULL, NULL, NULL, NULL));
    g_assert_cmpint(cli_run(e, NULL, &err, "vol-adopt", "--pool-dir", e->pool,
                            "--format", "raw", "cloud.qcow2", NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "format-mismatch"));
    g_assert_cmpint(getxattr(img, "user.safepool.format", fmt, sizeof(fmt)), ==,
                    -1);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-adopt", "--pool-dir", e->pool,
                            "--format", "qcow2", "cloud.qcow2", NULL),
                    ==, 0);
    g_assert_cmpint(getxattr(img, "user.safepool.format", fmt, sizeof(fmt)), ==,
                    5);
    g_assert_cmpstr(fmt, ==, "qcow2");
    g_assert_cmpint(cli_run(e, &out, NULL, "vol-dumpxml", "--pool-dir", e->pool,
                            "cloud.qcow2", NULL),
                    ==, 0);
    g_assert_nonnull(strstr(out, "<format type='qcow2'/>"));
    g_assert_nonnull(strstr(out, "<capacity unit='bytes'>16777216</capacity>"));
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cli_run(e, NULL, &err, "vol-adopt", "--pool-dir", e->pool,
                            "--format", "qcow2", "cloud.qcow2", NULL),
                    ==, 4);
    g_assert_nonnull(strstr(err, "already has a recorded format"));
}

/* 8: every name the policy accepts can be created (the temporary's name
 * no longer carries the volume's). */
static void
test_long_name(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *name = g_strnfill(255, 'n');
    g_autofree char *path = pool_file(e, name);

    make_raw(e, name, "1");
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
}

/* 9: a valid but huge label cannot be recorded on ext4: refused before
 * qemu-img runs, naming the filesystem's limit. */
static void
test_big_label(void)
{
    g_autoptr(CliEnv) e = NULL;
    g_autoptr(GString) label = NULL;
    g_autofree char *img = NULL;
    g_autofree char *log = NULL;
    g_autofree char *wrapper = NULL;
    g_autofree char *conf = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *x = NULL, *script = NULL;
    g_autofree char *err = NULL;

    if (getuid() != 0) {
        g_test_skip("needs root (mount)");
        return;
    }
    e = cli_env_new(NULL);
    /* a qemu-img that says whether it ran */
    log = g_build_filename(e->logs, "qemu-img.log", NULL);
    script = g_strdup_printf("#!/bin/sh\necho ran >>%s\n"
                             "exec /usr/bin/qemu-img \"$@\"\n",
                             log);
    wrapper = cli_write_script(e, "qemu-img-logged", script);
    /* unconfined: the wrapper's log on the host is the test */
    conf = g_strdup_printf("[qemu-img]\nqemu_img=%s\nsandbox=false\n", wrapper);
    g_assert_true(g_file_set_contents(e->conf, conf, -1, NULL));
    img = g_build_filename(e->dir, "ext4.img", NULL);
    {
        const char *mk[] = {"/usr/bin/truncate", "-s", "64M", img, NULL};
        const char *fs[] = {"/sbin/mkfs.ext4", "-q", "-F", img, NULL};
        const char *mnt[] = {"/bin/mount", "-o", "loop", img, e->pool, NULL};
        int status = -1;

        g_assert_true(g_spawn_sync(NULL, (char **)mk, NULL, 0, NULL, NULL, NULL,
                                   NULL, &status, NULL) &&
                      status == 0);
        g_assert_true(g_spawn_sync(NULL, (char **)fs, NULL, 0, NULL, NULL, NULL,
                                   NULL, &status, NULL) &&
                      status == 0);
        g_assert_true(g_spawn_sync(NULL, (char **)mnt, NULL, 0, NULL, NULL,
                                   NULL, NULL, &status, NULL) &&
                      status == 0);
    }
    /* a valid context of ~4000 bytes: many categories */
    label = g_string_new("system_u:object_r:svirt_image_t:s0:c0");
    for (int i = 1; label->len < 4000; i++)
        g_string_append_printf(label, ",c%d", i);
    xml = g_strdup_printf("<volume><name>l.qcow2</name><capacity unit='M'>1"
                          "</capacity><target><format type='qcow2'/>"
                          "<permissions><label>%s</label></permissions>"
                          "</target></volume>",
                          label->str);
    x = cli_write_xml(e, "label.xml", xml);
    g_assert_cmpint(
        cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 1);
    g_assert_nonnull(strstr(err, "do not fit"));
    g_assert_nonnull(strstr(err, "ext4"));
    g_assert_false(g_file_test(log, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
    g_assert_cmpint(umount2(e->pool, MNT_DETACH), ==, 0);
}

/* Run safepool in a child with a deadline: a FIFO input must not hang. */
static int
run_bounded(CliEnv *e, char **err, const char *const *args)
{
    gint64 t0 = g_get_monotonic_time();
    int rc = cli_runv(e, args, NULL, err);

    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
    return rc;
}

/* 10: FIFOs and devices as inputs are refused at once, by name. */
static void
test_fifo_inputs(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *fifo = g_build_filename(e->dir, "in.fifo", NULL);
    g_autofree char *vtpm = g_build_filename(e->dir, "vtpm", NULL);
    struct {
        const char *const args[12];
        const char *needle;
    } cases[] = {
        {{"validate", fifo, NULL}, "not a regular file"},
        {{"vol-create", "--pool-dir", e->pool, fifo, NULL},
         "not a regular file"},
        {{"--config", fifo, "vol-list", "--pool-dir", e->pool, NULL},
         "not a regular file"},
        {{"vtpm", "create", "--root", vtpm, "--domain-xml", fifo, NULL},
         "not a regular file"},
        {{"vtpm", "create", "--root", vtpm, "--domain-xml", "/dev/zero", NULL},
         "not a regular file"},
        {{"vtpm", "restore", "--root", vtpm, "--input", fifo, NULL},
         "not a regular file"},
    };

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_assert_cmpint(g_mkdir(vtpm, 0711), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *err = NULL;
        int rc = run_bounded(e, &err, cases[i].args);

        g_test_message("%s -> %d: %s", cases[i].args[0], rc, err);
        g_assert_cmpint(rc, ==, 1);
        g_assert_nonnull(strstr(err, cases[i].needle));
    }
}

/* 12: metadata preallocation is qcow2's; a raw volume refuses it as
 * libvirt does, instead of ignoring it. */
static void
test_prealloc_raw(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *x = cli_write_xml(
        e, "r.xml",
        "<volume><name>r.img</name><capacity unit='M'>1</capacity></volume>");
    g_autofree char *path = pool_file(e, "r.img");
    g_autofree char *err = NULL;

    g_assert_cmpint(cli_run(e, NULL, &err, "vol-create", "--pool-dir", e->pool,
                            "--prealloc-metadata", x, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA"));
    g_assert_nonnull(strstr(err, "raw"));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

/* 17: invisible formatting characters and invalid UTF-8 in names. */
static void
test_names(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    const char *names[] = {"evil\u202Egpj.img", "zero\u200Bwidth", "\uFEFFbom",
                           "soft\u00ADhyphen"};

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<volume><name>%s</name><capacity>1</capacity></volume>", names[i]);
        g_autofree char *x = cli_write_xml(e, "n.xml", xml);
        g_autofree char *err = NULL;

        g_assert_cmpint(cli_run(e, NULL, &err, "validate", x, NULL), ==, 1);
        g_assert_nonnull(strstr(err, "Unicode Cf"));
    }
    {
        g_autofree char *err = NULL;
        g_assert_cmpint(cli_run(e, NULL, &err, "vol-delete", "--pool-dir",
                                e->pool, "bad\xff\xfe", NULL),
                        ==, 1);
        g_assert_nonnull(strstr(err, "not valid UTF-8"));
    }
}

/* 19: max_capacity bounds what a clone publishes, not only the XML. */
static void
test_clone_capacity(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autoptr(CliEnv) small = NULL;
    g_autofree char *x = NULL;
    g_autofree char *err = NULL;
    g_autofree char *dst = NULL;

    make_raw(e, "big.img", "2048");
    small = cli_env_new("[volumes]\nmax_capacity=1G\n");
    g_free(small->pool);
    small->pool = g_strdup(e->pool);
    x = cli_write_xml(
        small, "c.xml",
        "<volume><name>c.img</name><capacity unit='M'>1</capacity>"
        "<allocation>0</allocation></volume>");
    dst = pool_file(e, "c.img");
    g_assert_cmpint(cli_run(small, NULL, &err, "vol-create", "--pool-dir",
                            e->pool, "--from", "big.img", x, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "max_capacity"));
    g_assert_false(g_file_test(dst, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hardening/3-hardlink-and-unknown",
                    test_hardlink_and_unknown);
    g_test_add_func("/hardening/23-adopt", test_adopt);
    g_test_add_func("/hardening/8-long-name", test_long_name);
    g_test_add_func("/hardening/9-big-label", test_big_label);
    g_test_add_func("/hardening/10-fifo-inputs", test_fifo_inputs);
    g_test_add_func("/hardening/12-prealloc-raw", test_prealloc_raw);
    g_test_add_func("/hardening/17-names", test_names);
    g_test_add_func("/hardening/19-clone-capacity", test_clone_capacity);
    return g_test_run();
}
