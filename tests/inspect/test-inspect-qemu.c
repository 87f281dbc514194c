/* The inspector on every format qemu-img writes: detected format, virtual
 * size equal to qemu-img info's, and the exact violations. */
#include "inspect-test-util.h"

#include <fcntl.h>
#include <glib-unix.h>

#include "util/sp-error.h"

static char *tmp;

/* Inspect @path undirected and as @format: both must agree with qemu-img
 * (opened as @qemu_fmt) on the virtual size and list exactly @names. */
static void
check(const char *name, SpFormat format, const char *qemu_fmt,
      const char *const *names)
{
    g_autofree char *path = g_build_filename(tmp, name, NULL);
    SpFormat modes[] = {SP_FORMAT_UNKNOWN, format};

    for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_autoptr(SpInspectResult) r = it_inspect(path, modes[i], NULL);
        g_assert_cmpstr(sp_format_to_string(r->format), ==,
                        sp_format_to_string(format));
        g_assert_cmpuint(r->virtual_size, ==,
                         (guint64)it_qemu_vsize(path, qemu_fmt));
        it_assert_violations(r, name, names);
    }
}
#define CHECK(name, fmt, qfmt, ...)                                            \
    check(name, fmt, qfmt, (const char *const[]){__VA_ARGS__, NULL})

static char *
p(const char *name)
{
    return g_build_filename(tmp, name, NULL);
}

static void
create(const char *fmt, const char *opts, const char *name, const char *size)
{
    g_autofree char *path = p(name);

    if (opts)
        IT_RUN("qemu-img", "create", "-q", "-f", fmt, "-o", opts, path, size);
    else
        IT_RUN("qemu-img", "create", "-q", "-f", fmt, path, size);
}

static void
test_raw(void)
{
    create("raw", NULL, "r.img", "3M");
    CHECK("r.img", SP_FORMAT_RAW, "raw", NULL);
}

static void
test_qcow2_plain(void)
{
    create("qcow2", "compat=0.10", "v2.qcow2", "10M");
    create("qcow2", "compat=1.1", "v3.qcow2", "1G");
    create("qcow2", "cluster_size=512", "small-cluster.qcow2", "3M");
    create("qcow2", "cluster_size=2M", "big-cluster.qcow2", "3M");
    CHECK("v2.qcow2", SP_FORMAT_QCOW2, "qcow2", NULL);
    CHECK("v3.qcow2", SP_FORMAT_QCOW2, "qcow2", NULL);
    CHECK("small-cluster.qcow2", SP_FORMAT_QCOW2, "qcow2", NULL);
    CHECK("big-cluster.qcow2", SP_FORMAT_QCOW2, "qcow2", NULL);
}

static void
test_qcow2_backing(void)
{
    g_autofree char *base = p("base.raw");
    g_autofree char *top = p("top.qcow2");
    g_autofree char *top2 = p("top2.qcow2");

    create("raw", NULL, "base.raw", "4M");
    IT_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
           top);
    CHECK("top.qcow2", SP_FORMAT_QCOW2, "qcow2", "qcow2-backing-file",
          "qcow2-backing-format");
    /* backing file without a backing format extension: rebase -u keeps
     * the name and drops the format only if asked for none; build one
     * from a v2 image whose extension area holds only the name */
    IT_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10", "-b",
           base, "-F", "raw", top2);
    CHECK("top2.qcow2", SP_FORMAT_QCOW2, "qcow2", "qcow2-backing-file",
          "qcow2-backing-format");
}

static void
test_qcow2_data_file(void)
{
    g_autofree char *data = p("data.bin");
    g_autofree char *opts = g_strdup_printf("data_file=%s", data);

    create("qcow2", opts, "df.qcow2", "8M");
    CHECK("df.qcow2", SP_FORMAT_QCOW2, "qcow2", "qcow2-data-file");
}

static void
test_qcow2_extended_l2(void)
{
    g_autofree char *path = p("xl2.qcow2");
    g_autoptr(SpPolicy) pol = it_policy();
    g_autoptr(SpInspectResult) r = NULL;

    create("qcow2", "extended_l2=on", "xl2.qcow2", "8M");
    CHECK("xl2.qcow2", SP_FORMAT_QCOW2, "qcow2", NULL);
    pol->allow_extended_l2 = FALSE;
    r = it_inspect(path, SP_FORMAT_QCOW2, pol);
    IT_VIOLATIONS(r, path, "qcow2-extended-l2-refused");
}

static void
test_qed(void)
{
    create("qed", NULL, "x.qed", "8M");
    CHECK("x.qed", SP_FORMAT_QED, "qed", "qed-refused");
}

static void
test_vmdk(void)
{
    create("vmdk", "subformat=monolithicSparse", "ms.vmdk", "10M");
    create("vmdk", "subformat=streamOptimized", "so.vmdk", "10M");
    create("vmdk", "subformat=monolithicFlat", "mf.vmdk", "10M");
    create("vmdk", "subformat=twoGbMaxExtentSparse", "tg.vmdk", "10M");
    CHECK("ms.vmdk", SP_FORMAT_VMDK, "vmdk", NULL);
    CHECK("so.vmdk", SP_FORMAT_VMDK, "vmdk", NULL);
    CHECK("mf.vmdk", SP_FORMAT_VMDK, "vmdk", "vmdk-create-type",
          "vmdk-extent-type", "vmdk-extent-other-file");
    CHECK("tg.vmdk", SP_FORMAT_VMDK, "vmdk", "vmdk-create-type",
          "vmdk-extent-other-file");
}

static void
test_vmdk_stream_converted(void)
{
    g_autofree char *src = p("src.qcow2");
    g_autofree char *dst = p("conv.vmdk");

    create("qcow2", NULL, "src.qcow2", "5M");
    IT_RUN("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 2M", src);
    IT_RUN("qemu-img", "convert", "-f", "qcow2", "-O", "vmdk", "-o",
           "subformat=streamOptimized", src, dst);
    CHECK("conv.vmdk", SP_FORMAT_VMDK, "vmdk", NULL);
}

static void
test_vpc(void)
{
    g_autofree char *fixed = p("fixed.vhd");
    g_autoptr(SpInspectResult) r = NULL;

    create("vpc", "subformat=fixed", "fixed.vhd", "10M");
    create("vpc", "subformat=dynamic", "dyn.vhd", "10M");
    create("vpc", "subformat=dynamic,force_size=on", "dyn-sz.vhd", "10M");
    CHECK("fixed.vhd", SP_FORMAT_VPC, "vpc", NULL);
    CHECK("dyn.vhd", SP_FORMAT_VPC, "vpc", NULL);
    CHECK("dyn-sz.vhd", SP_FORMAT_VPC, "vpc", NULL);
    /* a fixed VHD is raw bytes plus a footer: as raw it is what qemu's raw
     * driver sees */
    r = it_inspect(fixed, SP_FORMAT_RAW, NULL);
    g_assert_cmpint(r->format, ==, SP_FORMAT_RAW);
    g_assert_cmpuint(r->virtual_size, ==, (guint64)it_qemu_vsize(fixed, "raw"));
    IT_VIOLATIONS(r, fixed, NULL);
}

static void
test_vhdx_vdi(void)
{
    create("vhdx", NULL, "x.vhdx", "10M");
    create("vhdx", "subformat=fixed", "xf.vhdx", "4M");
    create("vdi", NULL, "x.vdi", "10M");
    create("vdi", "static=on", "xs.vdi", "3M");
    CHECK("x.vhdx", SP_FORMAT_VHDX, "vhdx", NULL);
    CHECK("xf.vhdx", SP_FORMAT_VHDX, "vhdx", NULL);
    CHECK("x.vdi", SP_FORMAT_VDI, "vdi", NULL);
    CHECK("xs.vdi", SP_FORMAT_VDI, "vdi", NULL);
}

static void
test_luks_qemu(void)
{
    g_autofree char *key = p("key");
    g_autofree char *obj = g_strdup_printf("secret,id=sec0,file=%s", key);
    g_autofree char *img = p("q.luks");
    g_autofree char *qimg = p("enc.qcow2");

    it_write(key, "passphrase", 10);
    IT_RUN_RETRY("qemu-img", "create", "-q", "--object", obj, "-f", "luks",
                 "-o", "key-secret=sec0,iter-time=100", img, "6M");
    CHECK("q.luks", SP_FORMAT_LUKS, "luks", NULL);
    /* qcow2 with LUKS encryption inside is still a plain qcow2 to us */
    IT_RUN_RETRY(
        "qemu-img", "create", "-q", "--object", obj, "-f", "qcow2", "-o",
        "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=100",
        qimg, "6M");
    CHECK("enc.qcow2", SP_FORMAT_QCOW2, "qcow2", NULL);
}

/* Expected format differs: a mismatch, reported through the gate with
 * SP_ERROR_FORMAT_MISMATCH when it is the only problem. */
static void
test_mismatch_gate(void)
{
    g_autofree char *q = p("m.qcow2");
    g_autofree char *b = p("mb.qcow2");
    g_autofree char *base = p("mbase.raw");
    g_autoptr(SpPolicy) pol = it_policy();
    g_autoptr(GError) error = NULL;
    g_autofd int fd = -1;
    g_autofd int fd2 = -1;
    guint64 vsize = 0;

    create("qcow2", NULL, "m.qcow2", "7M");
    create("raw", NULL, "mbase.raw", "1M");
    IT_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
           b);
    fd = open(q, O_RDONLY | O_CLOEXEC);
    g_assert_false(
        sp_inspect_check(fd, SP_FORMAT_RAW, pol, "volume 'm'", NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FORMAT_MISMATCH);
    g_assert_cmpstr(error->message, ==,
                    "volume 'm': unsafe image: format-mismatch");
    g_clear_error(&error);
    g_assert_true(sp_inspect_check(fd, SP_FORMAT_QCOW2, pol, "volume 'm'",
                                   &vsize, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(vsize, ==, 7 * 1024 * 1024);

    fd2 = open(b, O_RDONLY | O_CLOEXEC);
    g_assert_false(sp_inspect_check(fd2, SP_FORMAT_QCOW2, pol, "backing store",
                                    NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_UNSAFE_IMAGE);
    g_assert_cmpstr(error->message, ==,
                    "backing store: unsafe image: qcow2-backing-file, "
                    "qcow2-backing-format");
    g_clear_error(&error);
    g_assert_false(sp_inspect_check(fd2, SP_FORMAT_RAW, pol, "backing store",
                                    NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_UNSAFE_IMAGE);
    g_assert_nonnull(strstr(error->message, "format-mismatch"));
    g_assert_nonnull(strstr(error->message, "qcow2-backing-file"));
}

static void
test_capacity_limit(void)
{
    g_autofree char *q = p("big.qcow2");
    g_autoptr(SpPolicy) pol = it_policy();
    g_autoptr(SpInspectResult) r = NULL;

    create("qcow2", NULL, "big.qcow2", "2T");
    pol->max_capacity = 1ull << 40;
    r = it_inspect(q, SP_FORMAT_QCOW2, pol);
    g_assert_cmpuint(r->virtual_size, ==, 2ull << 40);
    IT_VIOLATIONS(r, q, "virtual-size-over-limit");
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmp = it_tmpdir();
    g_test_add_func("/inspect/qemu/raw", test_raw);
    g_test_add_func("/inspect/qemu/qcow2", test_qcow2_plain);
    g_test_add_func("/inspect/qemu/qcow2-backing", test_qcow2_backing);
    g_test_add_func("/inspect/qemu/qcow2-data-file", test_qcow2_data_file);
    g_test_add_func("/inspect/qemu/qcow2-extended-l2", test_qcow2_extended_l2);
    g_test_add_func("/inspect/qemu/qed", test_qed);
    g_test_add_func("/inspect/qemu/vmdk", test_vmdk);
    g_test_add_func("/inspect/qemu/vmdk-stream-converted",
                    test_vmdk_stream_converted);
    g_test_add_func("/inspect/qemu/vpc", test_vpc);
    g_test_add_func("/inspect/qemu/vhdx-vdi", test_vhdx_vdi);
    g_test_add_func("/inspect/qemu/luks", test_luks_qemu);
    g_test_add_func("/inspect/qemu/mismatch-gate", test_mismatch_gate);
    g_test_add_func("/inspect/qemu/capacity-limit", test_capacity_limit);
    ret = g_test_run();
    it_rm_rf(tmp);
    g_free(tmp);
    return ret;
}
