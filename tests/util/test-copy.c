/* sp_fs_copy_sparse: a 1 GiB file holding a few MiB of data must copy
 * byte-identical while its holes stay holes, on every copy method. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"

#define GIB (G_GUINT64_CONSTANT(1) << 30)
#define MIB (G_GUINT64_CONSTANT(1) << 20)

/* Data extents of the source: offset and length. The last one ends 1 MiB
 * before EOF so a trailing hole is covered, the first starts at 0. */
static const guint64 extents[][2] = {
    {0, 1 * MIB},
    {300 * MIB + 4096, 2 * MIB},
    {700 * MIB, 512 * 1024},
    {GIB - 2 * MIB, 1 * MIB},
};

static void
make_source(int fd)
{
    g_autofree guint8 *buf = g_malloc(2 * MIB);

    g_assert_cmpint(ftruncate(fd, (off_t)GIB), ==, 0);
    for (gsize e = 0; e < G_N_ELEMENTS(extents); e++) {
        for (gsize i = 0; i < extents[e][1]; i++)
            buf[i] = (guint8)((i * 7 + e * 13 + (i >> 12)) | 1);
        g_assert_cmpint(pwrite(fd, buf, extents[e][1], (off_t)extents[e][0]),
                        ==, (gssize)extents[e][1]);
    }
    g_assert_cmpint(fsync(fd), ==, 0);
}

static void
assert_same_content(int a, int b, guint64 len)
{
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *ba = g_malloc(8 * MIB);
    g_autofree guint8 *bb = g_malloc(8 * MIB);

    for (guint64 off = 0; off < len; off += 8 * MIB) {
        gssize na = sp_fs_pread_full(a, ba, 8 * MIB, off, &error);
        gssize nb = sp_fs_pread_full(b, bb, 8 * MIB, off, &error);

        g_assert_no_error(error);
        g_assert_cmpint(na, ==, nb);
        if (memcmp(ba, bb, (gsize)na) != 0)
            g_error("content differs in the 8 MiB block at %" G_GUINT64_FORMAT,
                    off);
    }
}

/* Every offset reported, in order. */
static void
record_progress(guint64 done, guint64 total, gpointer data)
{
    GArray *seen = data;

    g_assert_cmpuint(total, ==, GIB);
    g_assert_cmpuint(done, <=, total);
    g_assert_true(seen->len == 0 ||
                  done >= g_array_index(seen, guint64, seen->len - 1));
    g_array_append_val(seen, done);
}

/* Copy a fresh sparse source in @src_dir to a file in @dst_dir. */
static void
check_copy(const char *src_dir, const char *dst_dir, gboolean try_reflink,
           const char *expect_method)
{
    g_autoptr(GError) error = NULL;
    g_autofd int sdir = sp_fs_open_dir(src_dir, &error);
    g_autofd int ddir = sp_fs_open_dir(dst_dir, &error);
    g_autofd int in = -1;
    g_autofd int out = -1;
    const char *method = NULL;
    struct stat sst, dst;
    g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(guint64));
    SpProgress progress = {record_progress, seen};

    g_assert_no_error(error);
    in = sp_fs_openat(sdir, "src", O_RDWR | O_CREAT | O_EXCL, 0600, &error);
    g_assert_no_error(error);
    out = sp_fs_openat(ddir, "dst", O_RDWR | O_CREAT | O_EXCL, 0600, &error);
    g_assert_no_error(error);
    make_source(in);
    g_assert_cmpint(ftruncate(out, (off_t)GIB), ==, 0);

    g_assert_true(sp_fs_copy_sparse(in, out, GIB, try_reflink, &method,
                                    &progress, &error));
    g_assert_no_error(error);
    /* progress ran, in order, to the end */
    g_assert_cmpuint(seen->len, >=, 1);
    g_assert_cmpuint(g_array_index(seen, guint64, seen->len - 1), ==, GIB);
    g_test_message("method: %s", method);
    if (expect_method)
        g_assert_cmpstr(method, ==, expect_method);

    g_assert_cmpint(fstat(in, &sst), ==, 0);
    g_assert_cmpint(fstat(out, &dst), ==, 0);
    g_assert_cmpint(dst.st_size, ==, (off_t)GIB);
    /* 4.5 MiB of data; allow for filesystem rounding, far below 1 GiB. */
    g_test_message("st_blocks: source %jd, copy %jd", (intmax_t)sst.st_blocks,
                   (intmax_t)dst.st_blocks);
    g_assert_cmpint((guint64)dst.st_blocks * 512, <, 16 * MIB);
    assert_same_content(in, out, GIB);

    g_assert_true(sp_fs_unlink(sdir, "src", FALSE, FALSE, &error));
    g_assert_true(sp_fs_unlink(ddir, "dst", FALSE, FALSE, &error));
    g_assert_no_error(error);
}

static char *
make_tmp_in(const char *parent)
{
    g_autofree char *tmpl =
        g_build_filename(parent, "sp-test-copy-XXXXXX", NULL);
    char *dir = g_mkdtemp(g_steal_pointer(&tmpl));

    g_assert_nonnull(dir);
    return dir;
}

/* Same filesystem: copy_file_range over the data extents. */
static void
test_copy_same_fs(void)
{
    g_autofree char *dir = make_tmp_in(g_get_tmp_dir());

    check_copy(dir, dir, FALSE, "copy_file_range");
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* FICLONE where supported (xfs/btrfs), otherwise a silent fallback: the
 * result must be identical and sparse either way. */
static void
test_copy_try_reflink(void)
{
    g_autofree char *dir = make_tmp_in(g_get_tmp_dir());

    check_copy(dir, dir, TRUE, NULL);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* Across filesystems copy_file_range says EXDEV: the read/write loop must
 * still skip the holes. */
static void
test_copy_cross_fs(void)
{
    struct stat a, b;
    g_autofree char *src = NULL;
    g_autofree char *dst = NULL;

    if (stat(g_get_tmp_dir(), &a) < 0 || stat("/dev/shm", &b) < 0 ||
        a.st_dev == b.st_dev) {
        g_test_skip("need /dev/shm on a different filesystem than TMPDIR");
        return;
    }
    src = make_tmp_in(g_get_tmp_dir());
    dst = make_tmp_in("/dev/shm");
    check_copy(src, dst, TRUE, "readwrite");
    g_assert_cmpint(g_rmdir(src), ==, 0);
    g_assert_cmpint(g_rmdir(dst), ==, 0);
}

static gboolean
run(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, &err, &status, &error) ||
        !g_spawn_check_wait_status(status, &error)) {
        g_test_message("%s: %s %s", argv[0], error->message, err ? err : "");
        return FALSE;
    }
    return TRUE;
}

/* On xfs with reflink=1 the clone is a FICLONE: instant, shares extents. */
static void
test_copy_xfs_reflink(void)
{
    g_autofree char *dir = make_tmp_in(g_get_tmp_dir());
    g_autofree char *img = g_build_filename(dir, "xfs.img", NULL);
    g_autofree char *mnt = g_build_filename(dir, "mnt", NULL);
    const char *mkfs = "/usr/sbin/mkfs.xfs";
    const char *mount_bin = "/usr/bin/mount";
    int fd;

    if (geteuid() != 0 || !g_file_test(mkfs, G_FILE_TEST_IS_EXECUTABLE) ||
        !g_file_test(mount_bin, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("needs root, mkfs.xfs and mount");
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        return;
    }
    /* A private mount namespace: the mount (and its auto-clearing loop
     * device) goes away with this process even if an assertion aborts. */
    if (unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        g_test_skip("cannot create a private mount namespace");
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        return;
    }
    fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)(2 * GIB)), ==, 0);
    close(fd);
    g_assert_cmpint(g_mkdir(mnt, 0700), ==, 0);
    {
        const char *mk[] = {mkfs, "-q", "-m", "reflink=1", img, NULL};
        const char *mo[] = {mount_bin, "-o", "loop", img, mnt, NULL};
        g_assert_true(run(mk));
        if (!run(mo)) {
            g_test_skip("loop mount of xfs failed");
            goto out;
        }
    }
    check_copy(mnt, mnt, TRUE, "reflink");
    g_assert_cmpint(umount(mnt), ==, 0);
out:
    g_assert_cmpint(g_rmdir(mnt), ==, 0);
    g_assert_cmpint(unlink(img), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/util/copy/same-fs", test_copy_same_fs);
    g_test_add_func("/util/copy/try-reflink", test_copy_try_reflink);
    g_test_add_func("/util/copy/cross-fs", test_copy_cross_fs);
    /* Last: it moves this process into its own mount namespace. */
    g_test_add_func("/util/copy/xfs-reflink", test_copy_xfs_reflink);
    return g_test_run();
}
