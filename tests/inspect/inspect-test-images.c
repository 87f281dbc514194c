/* Hand-built hostile images (see inspect-test-images.h). */
#include "inspect-test-images.h"

#include <string.h>

#include "inspect-test-util.h"

/* Stores through memcpy: the offsets are not aligned for the type. */
static void
put_be32(guint8 *p, guint32 v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, 4);
}

static void
put_be64(guint8 *p, guint64 v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, 8);
}

static void
put_le32(guint8 *p, guint32 v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static void
put_le64(guint8 *p, guint64 v)
{
    v = GUINT64_TO_LE(v);
    memcpy(p, &v, 8);
}

void
it_build_shadow_raw(const char *path)
{
    g_autofree guint8 *img = g_malloc0(1024 * 1024);
    const char *target = "/etc/shadow";

    memcpy(img, "QFI\xfb", 4);
    put_be32(img + 4, 2);
    put_be64(img + 8, 0x100);
    put_be32(img + 16, (guint32)strlen(target));
    put_be32(img + 20, 16);
    put_be64(img + 24, 1024 * 1024);
    put_be32(img + 36, 1);
    put_be64(img + 40, 0x10000);
    put_be64(img + 48, 0x20000);
    put_be32(img + 56, 1);
    memcpy(img + 0x100, target, strlen(target));
    it_write(path, img, 1024 * 1024);
}

void
it_build_passwd_vmdk(const char *path)
{
    static const char desc[] = "# Disk DescriptorFile\n"
                               "version=1\n"
                               "CID=12345678\n"
                               "parentCID=ffffffff\n"
                               "createType=\"monolithicFlat\"\n"
                               "RW 8 FLAT \"/etc/passwd\" 0\n";

    it_write(path, desc, strlen(desc));
}

void
it_build_two_extent_vmdk(const char *path)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *desc =
        g_strdup_printf("# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
                        "parentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
                        "RW 2048 SPARSE \"%s\"\nRW 2048 SPARSE \"%s\"\n"
                        "ddb.adapterType = \"ide\"\n",
                        base, base);

    IT_RUN("qemu-img", "create", "-q", "-f", "vmdk", path, "1M");
    it_patch(path, 512, desc, strlen(desc) + 1);
}

void
it_build_stream_footer(const char *path, gboolean agree)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) error = NULL;
    guint8 tail[1536] = {0};
    guint64 at_end = G_MAXUINT64;
    gsize len;

    IT_RUN("qemu-img", "create", "-q", "-f", "vmdk", "-o",
           "subformat=streamOptimized", path, "10M");
    g_assert_true(g_file_get_contents(path, &data, &len, &error));
    g_assert_cmpuint(len % 512, ==, 0);
    put_le32(tail + 12, 3);        /* footer marker */
    memcpy(tail + 512, data, 512); /* footer = header ... */
    if (!agree)
        put_le64(tail + 512 + 12, 4096);     /* ... 2 MiB */
    it_patch(path, 56, &at_end, 8);          /* header: GD at the end */
    it_patch(path, len, tail, sizeof(tail)); /* + end-of-stream marker */
}

void
it_build_zero_capacity_vmdk(const char *path)
{
    static const char desc[] = "# Disk DescriptorFile\nversion=1\n"
                               "CID=fffffffe\nparentCID=ffffffff\n"
                               "createType=\"monolithicFlat\"\n"
                               "RW 2048 FLAT \"/etc/shadow\" 0\n";
    guint8 zero[8] = {0};

    IT_RUN("qemu-img", "create", "-q", "-f", "vmdk", path, "1M");
    it_patch(path, 12, zero, 8); /* capacity */
    it_patch(path, 36, zero, 8); /* descriptor size */
    it_patch(path, 512, desc, sizeof(desc));
}

void
it_build_ddb_parent_vmdk(const char *path)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *desc = g_strdup_printf(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
        "parentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
        "ddb.parentFileNameHint=\"/etc/shadow\"\nRW 2048 SPARSE \"%s\"\n",
        base);

    IT_RUN("qemu-img", "create", "-q", "-f", "vmdk", path, "1M");
    it_patch(path, 512, desc, strlen(desc) + 1);
}

void
it_build_bochs_raw(const char *path)
{
    guint8 h[512] = "Bochs Virtual HD Image";

    memcpy(h + 32, "Redolog", 8);
    memcpy(h + 48, "Growing", 8);
    put_le32(h + 64, 0x00020000);
    it_truncate(path, 0);
    it_truncate(path, 1024 * 1024);
    it_patch(path, 0, h, sizeof(h));
}

void
it_build_truncated_qcow2(const char *path)
{
    IT_RUN("qemu-img", "create", "-q", "-f", "qcow2", path, "4M");
    it_truncate(path, 60);
}

void
it_build_bad_boot_flag(const char *path)
{
    guint8 flag = 0x12;

    it_truncate(path, 0);
    it_truncate(path, 4 * 1024 * 1024);
    it_run("label: dos\nstart=2048, size=4096, type=83, bootable\n",
           (const char *const[]){"sfdisk", "-q", "--no-reread",
                                 "--no-tell-kernel", path, NULL});
    it_patch(path, 446, &flag, 1);
}

void
it_build_hybrid_gpt(const char *path)
{
    guint8 type = 0x83;

    it_truncate(path, 0);
    it_truncate(path, 4 * 1024 * 1024);
    IT_RUN("sgdisk", "-n", "1:2048:6143", "-t", "1:8300", path);
    it_patch(path, 446 + 16 + 4, &type, 1);
}

void
it_build_cut_luks(const char *path)
{
    g_autofree char *key = g_strconcat(path, ".key", NULL);

    it_write(key, "hunter2hunter2", 14);
    it_truncate(path, 4 * 1024 * 1024);
    IT_RUN("cryptsetup", "luksFormat", "--batch-mode", "--type", "luks1",
           "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
           "--key-file", key, path);
    it_truncate(path, 1024 * 1024);
}
