/* Every hostile image is refused by `safepool vol-create` as a backing file
 * and as a clone source: exit 1, the violation in the message, and the
 * configured qemu-img (a wrapper logging its calls) never started. */
#include "inspect-test-images.h"
#include "inspect-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define XATTR_FORMAT "user.safepool.format" /* SP_XATTR_FORMAT */

typedef struct {
    const char *file;
    void (*build)(const char *path);
    const char *claimed;   /* the format the XML / the xattr states */
    const char *violation; /* must appear in the error message */
} Hostile;

static const Hostile hostile[] = {
    {"shadow.img", it_build_shadow_raw, "raw", "qcow2-backing-file"},
    {"passwd.vmdk", it_build_passwd_vmdk, "vmdk", "vmdk-extent-other-file"},
    {"two.vmdk", it_build_two_extent_vmdk, "vmdk", "vmdk-extent-count"},
    {"footer.vmdk", NULL, "vmdk", "vmdk-footer-mismatch"},
    {"trunc.qcow2", it_build_truncated_qcow2, "qcow2", "truncated-header"},
    {"bootflag.img", it_build_bad_boot_flag, "raw", "mbr-boot-flag"},
    {"hybrid.img", it_build_hybrid_gpt, "raw", "gpt-protective-not-alone"},
    {"cut.luks", it_build_cut_luks, "raw", "format-mismatch"},
    {"zerocap.vmdk", it_build_zero_capacity_vmdk, "vmdk", "vmdk-zero-capacity"},
    {"ddbparent.vmdk", it_build_ddb_parent_vmdk, "vmdk", "vmdk-parent"},
    {"bochs.img", it_build_bochs_raw, "raw", "unsupported-format"},
};

typedef struct {
    char *dir, *pool, *bases, *conf, *log;
} Env;

static Env env;

static void
build_footer(const char *path)
{
    it_build_stream_footer(path, FALSE);
}

static char *
log_contents(void)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents(env.log, &text, NULL, NULL))
        return g_strdup("");
    return g_steal_pointer(&text);
}

static int
vol_create(const char *xml, const char *from, char **err)
{
    g_autofree char *xml_path = g_build_filename(env.dir, "vol.xml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) sp = NULL;
    const char *bin = g_getenv("SAFEPOOL_BIN");
    const char *argv[] = {bin,
                          "--config",
                          env.conf,
                          "vol-create",
                          "--pool-dir",
                          env.pool,
                          from ? "--from" : xml_path,
                          from ? from : NULL,
                          from ? xml_path : NULL,
                          NULL};

    g_assert_nonnull(bin);
    it_write(xml_path, xml, strlen(xml));
    sp = g_subprocess_newv(argv,
                           G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           &error);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(sp, NULL, NULL, NULL, err, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(sp));
    return g_subprocess_get_exit_status(sp);
}

static void
setup(void)
{
    g_autofree char *wrapper = NULL, *script = NULL, *conf = NULL;

    env.dir = it_tmpdir();
    env.pool = g_build_filename(env.dir, "pool", NULL);
    env.bases = g_build_filename(env.dir, "bases", NULL);
    env.conf = g_build_filename(env.dir, "safepool.conf", NULL);
    env.log = g_build_filename(env.dir, "qemu-img.log", NULL);
    wrapper = g_build_filename(env.dir, "qemu-img-wrapper", NULL);
    g_assert_cmpint(g_mkdir(env.pool, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(env.bases, 0700), ==, 0);
    script = g_strdup_printf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\n"
                             "exec /usr/bin/qemu-img \"$@\"\n",
                             env.log);
    it_write(wrapper, script, strlen(script));
    g_assert_cmpint(g_chmod(wrapper, 0755), ==, 0);
    conf =
        g_strdup_printf("[volumes]\nformats=raw;qcow2;vmdk\nbacking_roots=%s\n"
                        /* the wrapper logs on the host: unconfined */
                        "[qemu-img]\nqemu_img=%s\nsandbox=false\n",
                        env.bases, wrapper);
    it_write(env.conf, conf, strlen(conf));
}

static void
build(const Hostile *h, const char *path)
{
    if (h->build)
        h->build(path);
    else
        build_footer(path);
}

/* Control: a clean base goes through, and the wrapper sees qemu-img run. */
static void
test_clean_backing_runs_qemu_img(void)
{
    g_autofree char *base = g_build_filename(env.bases, "clean.raw", NULL);
    g_autofree char *xml = g_strdup_printf(
        "<volume><name>clean-top.qcow2</name><capacity unit='M'>4</capacity>"
        "<target><format type='qcow2'/></target><backingStore><path>%s</path>"
        "<format type='raw'/></backingStore></volume>",
        base);
    g_autofree char *err = NULL;
    g_autofree char *calls = NULL;

    it_truncate(base, 4 * 1024 * 1024);
    g_assert_cmpint(vol_create(xml, NULL, &err), ==, 0);
    calls = log_contents();
    g_assert_nonnull(strstr(calls, "create"));
    g_assert_cmpint(g_unlink(env.log), ==, 0);
}

static void
test_hostile_backing(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
        const Hostile *h = &hostile[i];
        g_autofree char *base = g_build_filename(env.bases, h->file, NULL);
        g_autofree char *xml = g_strdup_printf(
            "<volume><name>top%zu.qcow2</name><capacity unit='M'>4</capacity>"
            "<target><format "
            "type='qcow2'/></target><backingStore><path>%s</path>"
            "<format type='%s'/></backingStore></volume>",
            i, base, h->claimed);
        g_autofree char *err = NULL, *calls = NULL, *made = NULL;

        g_test_message("backing %s", h->file);
        build(h, base);
        g_assert_cmpint(vol_create(xml, NULL, &err), ==, 1);
        if (!strstr(err, h->violation) || !strstr(err, "unsafe image"))
            g_error("%s: message '%s' lacks '%s'", h->file, err, h->violation);
        calls = log_contents();
        g_assert_cmpstr(calls, ==, "");
        made = g_strdup_printf("%s/top%zu.qcow2", env.pool, i);
        g_assert_false(g_file_test(made, G_FILE_TEST_EXISTS));
    }
}

static void
test_hostile_clone_source(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
        const Hostile *h = &hostile[i];
        g_autofree char *name = g_strdup_printf("src-%s", h->file);
        g_autofree char *src = g_build_filename(env.pool, name, NULL);
        g_autofree char *xml =
            g_strdup_printf("<volume><name>clone%zu.qcow2</name><capacity "
                            "unit='M'>16</capacity>"
                            "<target><format type='qcow2'/></target></volume>",
                            i);
        g_autofree char *err = NULL, *calls = NULL, *made = NULL;

        g_test_message("clone source %s", h->file);
        build(h, src);
        g_assert_cmpint(
            setxattr(src, XATTR_FORMAT, h->claimed, strlen(h->claimed), 0), ==,
            0);
        g_assert_cmpint(vol_create(xml, name, &err), ==, 1);
        if (!strstr(err, h->violation))
            g_error("%s: message '%s' lacks '%s'", h->file, err, h->violation);
        calls = log_contents();
        g_assert_cmpstr(calls, ==, "");
        made = g_strdup_printf("%s/clone%zu.qcow2", env.pool, i);
        g_assert_false(g_file_test(made, G_FILE_TEST_EXISTS));
    }
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    setup();
    g_test_add_func("/inspect/vol-create/clean-backing",
                    test_clean_backing_runs_qemu_img);
    g_test_add_func("/inspect/vol-create/hostile-backing",
                    test_hostile_backing);
    g_test_add_func("/inspect/vol-create/hostile-clone-source",
                    test_hostile_clone_source);
    ret = g_test_run();
    it_rm_rf(env.dir);
    return ret;
}
