/* Hand-built hostile and foreign images: each is identified, sized as
 * qemu-img sizes it, and refused (or accepted) with the exact violations.
 * Long: every case builds its images with the helpers below (p, check,
 * create, copy, ...); a second file would need a second copy of them. */
#include "inspect-test-images.h"
#include "inspect-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"

static char *tmp;

static char *
p(const char *name)
{
    return g_build_filename(tmp, name, NULL);
}

/* Inspect @name as @expected; assert format, size (qemu-img's, opened as
 * @qemu_fmt; NULL: qemu-img must refuse the file) and violations. */
static void
check(const char *name, SpFormat expected, const SpPolicy *pol, SpFormat format,
      const char *qemu_fmt, const char *const *names)
{
    g_autofree char *path = p(name);
    g_autoptr(SpInspectResult) r = it_inspect(path, expected, pol);

    g_assert_cmpstr(sp_format_to_string(r->format), ==,
                    sp_format_to_string(format));
    if (qemu_fmt)
        g_assert_cmpuint(r->virtual_size, ==,
                         (guint64)it_qemu_vsize(path, qemu_fmt));
    it_assert_violations(r, name, names);
}
#define CHECK(name, exp, fmt, qfmt, ...)                                       \
    check(name, exp, NULL, fmt, qfmt, (const char *const[]){__VA_ARGS__, NULL})
#define CHECK_POL(name, exp, pol, fmt, qfmt, ...)                              \
    check(name, exp, pol, fmt, qfmt, (const char *const[]){__VA_ARGS__, NULL})

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
copy(const char *from, const char *to)
{
    g_autofree char *a = p(from), *b = p(to);
    IT_RUN("cp", "--sparse=always", a, b);
}

static void
test_qcow2_in_raw(void)
{
    g_autofree char *path = p("shadow.raw");

    it_build_shadow_raw(path);
    CHECK("shadow.raw", SP_FORMAT_UNKNOWN, SP_FORMAT_QCOW2, "qcow2",
          "qcow2-backing-file");
    CHECK("shadow.raw", SP_FORMAT_RAW, SP_FORMAT_QCOW2, "qcow2",
          "qcow2-backing-file", "format-mismatch");
    CHECK("shadow.raw", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, "qcow2",
          "qcow2-backing-file");
}

static void
test_qcow2_header_fields(void)
{
    g_autofree char *bo = p("bo.qcow2"), *uf = p("uf.qcow2"),
                    *bv = p("bv.qcow2");
    g_autofree char *cs = p("cs.qcow2"), *l1 = p("l1.qcow2"),
                    *tr = p("tr.qcow2");
    g_autofree char *tr3 = p("tr3.qcow2"), *amb = p("amb.qcow2");
    guint32 vdi_sig = GUINT32_TO_LE(0xBEDA107F);

    create("qcow2", NULL, "base.qcow2", "4M");
    copy("base.qcow2", "bo.qcow2");
    it_patch_be64(bo, 8, 0x100000); /* name beyond the 64 KiB header cluster */
    it_patch_be32(bo, 16, 10);
    CHECK("bo.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, NULL,
          "qcow2-backing-file", "qcow2-backing-offset-out-of-header");

    copy("base.qcow2", "uf.qcow2");
    it_patch_be64(uf, 72, 1ull << 12);
    CHECK("uf.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, NULL,
          "qcow2-unknown-incompatible-feature");

    copy("base.qcow2", "bv.qcow2");
    it_patch_be32(bv, 4, 4);
    CHECK("bv.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, NULL,
          "qcow2-bad-version");

    copy("base.qcow2", "cs.qcow2");
    it_patch_be32(cs, 20, 30);
    CHECK("cs.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, NULL,
          "qcow2-cluster-size");

    copy("base.qcow2", "l1.qcow2");
    it_patch_be64(l1, 40, 1ull << 40);
    CHECK("l1.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, NULL,
          "qcow2-l1-beyond-eof");

    /* truncated headers: qemu-img cannot open them either */
    copy("base.qcow2", "tr.qcow2");
    it_truncate(tr, 60);
    g_assert_cmpint(it_qemu_vsize(tr, "qcow2"), ==, -1);
    CHECK("tr.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, NULL,
          "truncated-header");
    CHECK("tr.qcow2", SP_FORMAT_RAW, SP_FORMAT_QCOW2, NULL, "truncated-header",
          "format-mismatch");
    copy("base.qcow2", "tr3.qcow2");
    it_truncate(tr3, 90);
    CHECK("tr3.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_QCOW2, NULL,
          "truncated-header");

    /* two signatures at once */
    copy("base.qcow2", "amb.qcow2");
    it_patch(amb, 0x40, &vdi_sig, 4);
    CHECK("amb.qcow2", SP_FORMAT_UNKNOWN, SP_FORMAT_UNKNOWN, NULL,
          "ambiguous-format");
    CHECK("amb.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_UNKNOWN, NULL,
          "ambiguous-format", "format-mismatch");
}

static void
test_qed_backing(void)
{
    g_autofree char *base = p("qb.raw"), *top = p("top.qed");

    create("raw", NULL, "qb.raw", "1M");
    IT_RUN("qemu-img", "create", "-q", "-f", "qed", "-b", base, "-F", "raw",
           top);
    CHECK("top.qed", SP_FORMAT_QED, SP_FORMAT_QED, "qed", "qed-refused",
          "qed-backing-file");
}

static void
test_vmdk_descriptors(void)
{
    g_autofree char *pw = p("passwd.vmdk"), *two = p("two.vmdk");
    g_autofree char *dd = p("dotdot.vmdk"), *unk = p("unknown.vmdk");
    g_autofree char *par = p("parent.vmdk");
    const char *dd_desc =
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
        "parentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
        "RW 2048 SPARSE \"../../x.vmdk\"\n";

    it_build_passwd_vmdk(pw);
    CHECK("passwd.vmdk", SP_FORMAT_UNKNOWN, SP_FORMAT_VMDK, "vmdk",
          "vmdk-create-type", "vmdk-extent-type", "vmdk-extent-other-file",
          "vmdk-descriptor-path");
    CHECK("passwd.vmdk", SP_FORMAT_RAW, SP_FORMAT_VMDK, "vmdk",
          "vmdk-create-type", "vmdk-extent-type", "vmdk-extent-other-file",
          "vmdk-descriptor-path", "format-mismatch");

    /* a sparse vmdk whose embedded descriptor lists two extents */
    it_build_two_extent_vmdk(two);
    CHECK("two.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, "vmdk",
          "vmdk-extent-count");

    /* descriptor-only file escaping with .. */
    it_write(dd, dd_desc, strlen(dd_desc));
    CHECK("dotdot.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, NULL,
          "vmdk-extent-other-file", "vmdk-descriptor-path");

    /* lines the inspector does not know are refused */
    create("vmdk", NULL, "unknown.vmdk", "1M");
    {
        const char *d =
            "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
            "parentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
            "changeTrackPath=\"/etc/hosts\"\nRW 2048 SPARSE \"unknown.vmdk\"\n";
        it_patch(unk, 512, d, strlen(d) + 1);
    }
    CHECK("unknown.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, "vmdk",
          "vmdk-descriptor-unknown-line");

    /* a parent named in the embedded descriptor */
    create("vmdk", NULL, "parent.vmdk", "1M");
    {
        const char *d = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
                        "parentCID=12345678\ncreateType=\"monolithicSparse\"\n"
                        "parentFileNameHint=\"/var/lib/x.vmdk\"\n"
                        "RW 2048 SPARSE \"parent.vmdk\"\n";
        it_patch(par, 512, d, strlen(d) + 1);
    }
    CHECK("parent.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, NULL, "vmdk-parent");
}

/* qemu finds a vmdk's parent by searching the raw bytes at 0x200 for
 * "parentFileNameHint", not by parsing the declared descriptor. */
static void
test_vmdk_hidden_parent(void)
{
    g_autofree char *parent = p("hp-parent.vmdk");
    const char *head = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
                       "parentCID=ffffffff\n"
                       "createType=\"monolithicSparse\"\n";
    /* in a comment; behind a "ddb." prefix */
    const char *const keys[] = {"# parentFileNameHint=\"",
                                "ddb.parentFileNameHint=\""};
    create("vmdk", NULL, "hp-parent.vmdk", "1M");
    for (gsize i = 0; i < G_N_ELEMENTS(keys) + 2; i++) {
        g_autofree char *path = p("hp.vmdk"), *back = NULL;
        g_autofree char *d = NULL;
        guint64 one = GUINT64_TO_LE(1), zero = 0;

        create("vmdk", NULL, "hp.vmdk", "1M");
        if (i < G_N_ELEMENTS(keys)) {
            d = g_strconcat(head, keys[i], parent,
                            "\"\nRW 2048 SPARSE \"hp.vmdk\"\n", NULL);
            it_patch(path, 512, d, strlen(d) + 1);
        } else {
            /* past the declared descriptor size (1 sector), or with no
             * declared descriptor at all; qemu's search runs on up to the
             * first NUL */
            GString *g = g_string_new(head);

            g_string_append(g, "RW 2048 SPARSE \"hp.vmdk\"\n");
            while (g->len < 512)
                g_string_append_c(g, ' ');
            g_string_append_printf(g, "\nparentFileNameHint=\"%s\"\n", parent);
            d = g_string_free(g, FALSE);
            it_patch(path, 36, i == G_N_ELEMENTS(keys) ? &one : &zero, 8);
            it_patch(path, 512, d, strlen(d) + 1);
        }
        back = it_qemu_backing(path, "vmdk");
        g_assert_cmpstr(back, ==, parent);
        CHECK("hp.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, "vmdk", "vmdk-parent");
    }
}

/* A sparse header of capacity 0 with a descriptor offset is opened by
 * qemu as a descriptor file: its extents are other files. */
static void
test_vmdk_zero_capacity(void)
{
    g_autofree char *path = p("zc.vmdk"), *host = p("zc-host.bin");
    g_autofree char *d =
        g_strdup_printf("# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
                        "parentCID=ffffffff\ncreateType=\"monolithicFlat\"\n"
                        "RW 2048 FLAT \"%s\" 0\n",
                        host);
    guint64 zero = 0;

    it_truncate(host, 1024 * 1024);
    create("vmdk", NULL, "zc.vmdk", "1M");
    it_patch(path, 12, &zero, 8); /* capacity */
    it_patch(path, 36, &zero, 8); /* descriptor size */
    it_patch(path, 512, d, strlen(d) + 1);
    /* qemu opened the host file: the header says 0 sectors */
    g_assert_cmpint(it_qemu_vsize(path, "vmdk"), >, 0);
    CHECK("zc.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, NULL,
          "vmdk-zero-capacity");
}

/* streamOptimized with the grain directory "at the end": the footer must
 * repeat the header. */
static void
test_vmdk_footer(void)
{
    g_autofree char *bad = p("footer.vmdk"), *ok = p("ok-footer.vmdk");

    it_build_stream_footer(bad, FALSE);
    CHECK("footer.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, "vmdk",
          "vmdk-footer-mismatch");
    it_build_stream_footer(ok, TRUE);
    CHECK("ok-footer.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, "vmdk", NULL);

    /* a VMware 3 "COWD" sparse file */
    {
        g_autofree char *cowd = p("cowd.vmdk");
        guint8 h[2048] = "COWD";
        it_write(cowd, h, sizeof(h));
        CHECK("cowd.vmdk", SP_FORMAT_VMDK, SP_FORMAT_VMDK, NULL,
              "vmdk-cowd-refused");
    }
}

/* A "raw" file that starts with the signature of a format qemu probes but
 * safepool does not handle is not raw to the next tool that probes it. */
static void
test_foreign_signatures(void)
{
    static const struct {
        const char *magic;
        gsize len;
        gboolean qemu; /* qemu-img probes it (else: libvirt's cow) */
    } sigs[] = {
        {"Bochs Virtual HD Image\0\0\0\0\0\0\0\0\0\0Redolog\0\0\0\0\0\0\0\0\0"
         "Growing\0\0\0\0\0\0\0\0\0\0\0\2",
         67, TRUE},
        {"#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t "
         "iso9660 /dev/cloop $1\n",
         83, TRUE},
        {"OOOM\0\0\0\2/etc/shadow", 19, FALSE},
    };
    g_autofree char *par = p("f.parallels"), *path = p("foreign.raw");

    /* a real parallels image, made by qemu-img */
    create("parallels", NULL, "f.parallels", "1M");
    {
        g_autofree char *fmt = it_qemu_probe(par);
        g_assert_cmpstr(fmt, ==, "parallels");
    }
    CHECK("f.parallels", SP_FORMAT_RAW, SP_FORMAT_UNKNOWN, NULL,
          "unsupported-format", "format-mismatch");
    CHECK("f.parallels", SP_FORMAT_UNKNOWN, SP_FORMAT_UNKNOWN, NULL,
          "unsupported-format");
    for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++) {
        g_autofree char *probed = NULL;

        it_truncate(path, 0);
        it_truncate(path, 1024 * 1024);
        it_patch(path, 0, sigs[i].magic, sigs[i].len);
        /* qemu probes another format (whose driver then refuses it) */
        probed = it_qemu_probe(path);
        if (sigs[i].qemu)
            g_assert_cmpstr(probed, ==, NULL);
        CHECK("foreign.raw", SP_FORMAT_RAW, SP_FORMAT_UNKNOWN, NULL,
              "unsupported-format", "format-mismatch");
    }
}

static void
test_iso(void)
{
    g_autofree char *dir = p("isodir"), *file = p("isodir/hello.txt");
    g_autofree char *iso = p("a.iso"), *hyb = p("hybrid.iso"),
                    *udf = p("udf.img");
    g_autofree guint8 *u = g_malloc0(256 * 1024);

    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    it_write(file, "hello\n", 6);
    IT_RUN("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, dir);
    CHECK("a.iso", SP_FORMAT_UNKNOWN, SP_FORMAT_ISO, "raw", NULL);
    CHECK("a.iso", SP_FORMAT_RAW, SP_FORMAT_ISO, "raw", NULL);
    CHECK("a.iso", SP_FORMAT_ISO, SP_FORMAT_ISO, "raw", NULL);
    CHECK("a.iso", SP_FORMAT_QCOW2, SP_FORMAT_ISO, "raw", "format-mismatch");

    /* with an MBR partition table in its system area it is still an iso */
    IT_RUN("cp", iso, hyb);
    it_run("label: dos\nstart=64, size=100, type=83\n",
           (const char *const[]){"sfdisk", "--wipe", "never", "--no-reread",
                                 "--no-tell-kernel", "-q", hyb, NULL});
    CHECK("hybrid.iso", SP_FORMAT_UNKNOWN, SP_FORMAT_ISO, "raw", NULL);
    CHECK("hybrid.iso", SP_FORMAT_RAW, SP_FORMAT_ISO, "raw", NULL);

    /* UDF volume recognition sequence (BEA01, NSR02, TEA01) */
    memcpy(u + 16 * 2048 + 1, "BEA01", 5);
    memcpy(u + 17 * 2048 + 1, "NSR02", 5);
    memcpy(u + 18 * 2048 + 1, "TEA01", 5);
    it_write(udf, u, 256 * 1024);
    CHECK("udf.img", SP_FORMAT_UNKNOWN, SP_FORMAT_ISO, "raw", NULL);
}

/* Defect 20: a file that is two formats at once (a qcow2 whose bytes at
 * 32 KiB read as an ISO 9660 volume) is reported as both and refused, as
 * oslo.utils does; an ISO's size is its primary volume descriptor's. */
static void
test_polyglot(void)
{
    g_autofree char *poly = p("poly.qcow2"), *iso = p("pvd.iso");
    g_autofree char *dir = p("pvddir"), *file = p("pvddir/x");
    g_autoptr(SpInspectResult) r = NULL;
    guint8 pvd[8] = {1, 'C', 'D', '0', '0', '1', 1, 0};
    guint8 size[4] = {100, 0, 0, 0}; /* 100 blocks, little-endian half */

    create("qcow2", NULL, "poly.qcow2", "1M");
    it_patch(poly, 32768, pvd, sizeof(pvd));
    r = it_inspect(poly, SP_FORMAT_UNKNOWN, NULL);
    g_assert_cmpint(r->format, ==, SP_FORMAT_UNKNOWN);
    g_assert_cmpuint(r->formats, ==,
                     SP_FORMAT_BIT(SP_FORMAT_QCOW2) |
                         SP_FORMAT_BIT(SP_FORMAT_ISO));
    it_assert_violations(r, "poly.qcow2",
                         (const char *const[]){"ambiguous-format", NULL});
    g_clear_pointer(&r, sp_inspect_result_free);
    CHECK("poly.qcow2", SP_FORMAT_QCOW2, SP_FORMAT_UNKNOWN, NULL,
          "ambiguous-format", "format-mismatch");

    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    it_write(file, "x\n", 2);
    IT_RUN("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, dir);
    it_patch(iso, 32768 + 80, size, sizeof(size));
    r = it_inspect(iso, SP_FORMAT_UNKNOWN, NULL);
    g_assert_cmpint(r->format, ==, SP_FORMAT_ISO);
    g_assert_cmpuint(r->virtual_size, ==, 100 * 2048);
    g_clear_pointer(&r, sp_inspect_result_free);
    /* read as raw the guest sees the file's bytes */
    r = it_inspect(iso, SP_FORMAT_RAW, NULL);
    g_assert_cmpuint(r->virtual_size, ==, it_file_size(iso));
}

/* The inspector hands back what a qcow2 names: the executor compares it
 * with the record instead of parsing the header itself. */
static void
test_backing_reported(void)
{
    g_autofree char *base = p("b.raw"), *over = p("o.qcow2");
    g_autoptr(SpInspectResult) r = NULL;

    create("raw", NULL, "b.raw", "1M");
    IT_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
           over, "1M");
    r = it_inspect(over, SP_FORMAT_QCOW2, NULL);
    g_assert_cmpstr(r->backing_name, ==, base);
    g_assert_cmpstr(r->backing_format, ==, "raw");
    g_clear_pointer(&r, sp_inspect_result_free);
    r = it_inspect(base, SP_FORMAT_RAW, NULL);
    g_assert_null(r->backing_name);
    g_assert_null(r->backing_format);
}

static void
test_partitions(void)
{
    g_autofree char *gpt = p("gpt.img"), *mbr = p("mbr.img");
    g_autofree char *bad = p("badflag.img"), *hyb = p("hybrid-gpt.img");
    g_autofree char *fat = p("fat.img");
    g_autofree char *mkfs_vfat = g_find_program_in_path("mkfs.vfat");
    guint8 flag = 0x12, type = 0x83;

    it_truncate(gpt, 0);
    it_truncate(gpt, 4 * 1024 * 1024);
    IT_RUN("sgdisk", "-n", "1:2048:6143", "-t", "1:8300", gpt);
    CHECK("gpt.img", SP_FORMAT_UNKNOWN, SP_FORMAT_GPT, "raw", NULL);
    CHECK("gpt.img", SP_FORMAT_RAW, SP_FORMAT_GPT, "raw", NULL);

    it_truncate(mbr, 0);
    it_truncate(mbr, 4 * 1024 * 1024);
    it_run("label: dos\nstart=2048, size=4096, type=83, bootable\n",
           (const char *const[]){"sfdisk", "-q", "--no-reread",
                                 "--no-tell-kernel", mbr, NULL});
    CHECK("mbr.img", SP_FORMAT_UNKNOWN, SP_FORMAT_MBR, "raw", NULL);
    CHECK("mbr.img", SP_FORMAT_RAW, SP_FORMAT_MBR, "raw", NULL);

    IT_RUN("cp", mbr, bad);
    it_patch(bad, 446, &flag, 1);
    CHECK("badflag.img", SP_FORMAT_RAW, SP_FORMAT_MBR, "raw", "mbr-boot-flag");

    IT_RUN("cp", gpt, hyb);
    it_patch(hyb, 446 + 16 + 4, &type, 1);
    CHECK("hybrid-gpt.img", SP_FORMAT_RAW, SP_FORMAT_GPT, "raw",
          "gpt-protective-not-alone");

    /* a bare FAT filesystem ends its boot sector in 0x55AA too: raw */
    if (mkfs_vfat) {
        it_truncate(fat, 4 * 1024 * 1024);
        IT_RUN("mkfs.vfat", fat);
        CHECK("fat.img", SP_FORMAT_UNKNOWN, SP_FORMAT_RAW, "raw", NULL);
    }
}

static void
luks_format(const char *type, const char *name, const char *size)
{
    g_autofree char *path = p(name), *key = p("luks.key");

    it_write(key, "hunter2hunter2", 14);
    IT_RUN("truncate", "-s", size, path);
    IT_RUN("cryptsetup", "luksFormat", "--batch-mode", "--type", type,
           "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
           "--key-file", key, path);
}

static void
test_luks(void)
{
    g_autofree char *l1 = p("c1.luks"), *l2 = p("c2.luks"),
                    *cut = p("cut.luks");
    g_autofree char *v3 = p("v3.luks"), *key = p("q.key"), *ql = p("q.luks");
    g_autofree char *obj = NULL;
    g_autoptr(SpPolicy) only1 = it_policy();
    g_autoptr(SpInspectResult) r = NULL;

    luks_format("luks1", "c1.luks", "4M");
    CHECK("c1.luks", SP_FORMAT_LUKS, SP_FORMAT_LUKS, "luks", NULL);
    CHECK("c1.luks", SP_FORMAT_RAW, SP_FORMAT_LUKS, "luks", "format-mismatch");

    /* qemu 7.2 cannot open LUKS2: the size is the data segment's */
    luks_format("luks2", "c2.luks", "20M");
    g_assert_cmpint(it_qemu_vsize(l2, "luks"), ==, -1);
    r = it_inspect(l2, SP_FORMAT_LUKS, NULL);
    g_assert_cmpint(r->format, ==, SP_FORMAT_LUKS);
    g_assert_cmpuint(r->virtual_size, ==, 4 * 1024 * 1024);
    IT_VIOLATIONS(r, l2, NULL);
    only1->luks_versions = 1u << 1;
    CHECK_POL("c2.luks", SP_FORMAT_LUKS, only1, SP_FORMAT_LUKS, NULL,
              "luks-version");

    /* a LUKS2 header claiming 4 MiB of JSON: more than the read budget */
    {
        g_autofree char *big = p("bighdr.luks");
        IT_RUN("cp", "--sparse=always", l2, big);
        it_patch_be64(big, 8, 4 * 1024 * 1024);
        CHECK("bighdr.luks", SP_FORMAT_LUKS, SP_FORMAT_LUKS, NULL,
              "read-limit-exceeded");
        it_truncate(big, 8192);
        CHECK("bighdr.luks", SP_FORMAT_LUKS, SP_FORMAT_LUKS, NULL,
              "truncated-header");
    }

    IT_RUN("cp", l1, cut);
    it_truncate(cut, 1024 * 1024);
    CHECK("cut.luks", SP_FORMAT_LUKS, SP_FORMAT_LUKS, NULL,
          "luks-payload-beyond-eof");

    IT_RUN("cp", l1, v3);
    it_patch(v3, 6, "\0\3", 2);
    CHECK("v3.luks", SP_FORMAT_LUKS, SP_FORMAT_LUKS, NULL, "luks-version");

    it_write(key, "x", 1);
    obj = g_strdup_printf("secret,id=s0,file=%s", key);
    IT_RUN_RETRY("qemu-img", "create", "-q", "--object", obj, "-f", "luks",
                 "-o", "key-secret=s0,iter-time=100", ql, "3M");
    CHECK("q.luks", SP_FORMAT_LUKS, SP_FORMAT_LUKS, "luks", NULL);
}

static void
test_vhd_vdi_hostile(void)
{
    g_autofree char *diff = p("diff.vhd"), *vdiff = p("diff.vdi");
    g_autofree char *reg = p("badregion.vhdx");
    g_autoptr(SpPolicy) tiny = it_policy();
    guint8 junk = 0x5a;

    create("vpc", NULL, "diff.vhd", "4M");
    it_patch_be32(diff, 60, 4);
    CHECK("diff.vhd", SP_FORMAT_VPC, SP_FORMAT_VPC, NULL, "vpc-differencing");

    create("vdi", NULL, "diff.vdi", "4M");
    {
        guint32 t = GUINT32_TO_LE(4);
        it_patch(vdiff, 0x4C, &t, 4);
    }
    CHECK("diff.vdi", SP_FORMAT_VDI, SP_FORMAT_VDI, NULL, "vdi-image-type");

    create("vhdx", NULL, "badregion.vhdx", "4M");
    it_patch(reg, 192 * 1024 + 100, &junk, 1);
    CHECK("badregion.vhdx", SP_FORMAT_VHDX, SP_FORMAT_VHDX, NULL,
          "vhdx-region-table");

    /* the read budget holds even when a format wants more */
    create("vhdx", NULL, "small-budget.vhdx", "4M");
    tiny->max_image_read =
        80 * 1024; /* head and headers, not the region table */
    CHECK_POL("small-budget.vhdx", SP_FORMAT_VHDX, tiny, SP_FORMAT_VHDX, NULL,
              "read-limit-exceeded", "vhdx-region-table");
}

static void
test_edge_cases(void)
{
    g_autofree char *empty = p("empty"), *magic = p("magic"), *fifo = p("fifo");
    g_autoptr(SpInspectResult) r = NULL;
    g_autoptr(GError) error = NULL;
    int fd;

    it_write(empty, "", 0);
    CHECK("empty", SP_FORMAT_UNKNOWN, SP_FORMAT_RAW, "raw", NULL);
    it_write(magic, "QFI\xfb", 4);
    CHECK("magic", SP_FORMAT_UNKNOWN, SP_FORMAT_QCOW2, NULL,
          "truncated-header");
    CHECK("magic", SP_FORMAT_RAW, SP_FORMAT_QCOW2, NULL, "truncated-header",
          "format-mismatch");

    /* only regular files and block devices are inspected */
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    r = sp_inspect_fd(fd, SP_FORMAT_RAW, NULL, &error);
    g_assert_null(r);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_false(
        sp_inspect_check(fd, SP_FORMAT_RAW, NULL, "fifo", NULL, NULL));
    close(fd);
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmp = it_tmpdir();
    g_test_add_func("/inspect/hostile/qcow2-in-raw", test_qcow2_in_raw);
    g_test_add_func("/inspect/hostile/qcow2-header-fields",
                    test_qcow2_header_fields);
    g_test_add_func("/inspect/hostile/qed-backing", test_qed_backing);
    g_test_add_func("/inspect/hostile/vmdk-descriptors", test_vmdk_descriptors);
    g_test_add_func("/inspect/hostile/vmdk-footer", test_vmdk_footer);
    g_test_add_func("/inspect/hostile/vmdk-hidden-parent",
                    test_vmdk_hidden_parent);
    g_test_add_func("/inspect/hostile/vmdk-zero-capacity",
                    test_vmdk_zero_capacity);
    g_test_add_func("/inspect/hostile/foreign-signatures",
                    test_foreign_signatures);
    g_test_add_func("/inspect/hostile/iso", test_iso);
    g_test_add_func("/inspect/hostile/partitions", test_partitions);
    g_test_add_func("/inspect/hostile/20-polyglot", test_polyglot);
    g_test_add_func("/inspect/hostile/backing-reported", test_backing_reported);
    g_test_add_func("/inspect/hostile/luks", test_luks);
    g_test_add_func("/inspect/hostile/vhd-vdi", test_vhd_vdi_hostile);
    g_test_add_func("/inspect/hostile/edge-cases", test_edge_cases);
    ret = g_test_run();
    it_rm_rf(tmp);
    g_free(tmp);
    return ret;
}
