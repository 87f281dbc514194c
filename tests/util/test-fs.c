/* sp-fs: openat2 confinement, atomic publish, symlink-safe removal and the
 * path helpers, each checked against what ends up on disk. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"

/* A scratch area: <top>/pool is the pool, <top>/outside must never change. */
typedef struct {
    char *top;
    char *pool;
    char *outside;
    int dfd;
} Fixture;

static void
write_file(const char *path, const char *content)
{
    g_autoptr(GError) error = NULL;
    g_file_set_contents(path, content, -1, &error);
    g_assert_no_error(error);
}

static void
assert_file_content(const char *path, const char *expected)
{
    g_autofree char *got = NULL;
    g_autoptr(GError) error = NULL;

    g_file_get_contents(path, &got, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, expected);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *secret = NULL;

    f->top = g_dir_make_tmp("sp-test-fs-XXXXXX", &error);
    g_assert_no_error(error);
    f->pool = g_build_filename(f->top, "pool", NULL);
    f->outside = g_build_filename(f->top, "outside", NULL);
    g_assert_cmpint(g_mkdir(f->pool, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(f->outside, 0700), ==, 0);
    secret = g_build_filename(f->outside, "secret", NULL);
    write_file(secret, "outside data");
    f->dfd = sp_fs_open_dir(f->pool, &error);
    g_assert_no_error(error);
    g_assert_cmpint(f->dfd, >=, 0);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofd int topfd = sp_fs_open_dir(f->top, &error);

    g_assert_no_error(error);
    close(f->dfd);
    g_assert_true(sp_fs_rm_rf(topfd, "pool", &error));
    g_assert_no_error(error);
    g_assert_true(sp_fs_rm_rf(topfd, "outside", &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_rmdir(f->top), ==, 0);
    g_free(f->top);
    g_free(f->pool);
    g_free(f->outside);
}

static void
symlink_in_pool(Fixture *f, const char *target, const char *name)
{
    g_autofree char *path = g_build_filename(f->pool, name, NULL);
    g_assert_cmpint(symlink(target, path), ==, 0);
}

/* Refused with SP_ERROR_INVALID and the offending path quoted. */
static void
assert_open_refused(int dfd, const char *relpath, int flags)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *quoted = g_strdup_printf("'%s'", relpath);
    int fd = sp_fs_openat(dfd, relpath, flags, 0600, &error);

    g_assert_cmpint(fd, ==, -1);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, quoted));
}

static void
test_openat_symlink_component(Fixture *f, gconstpointer data)
{
    g_autofree char *secret = g_build_filename(f->outside, "secret", NULL);
    g_autofree char *created = g_build_filename(f->outside, "new", NULL);

    symlink_in_pool(f, f->outside, "dirlink");
    symlink_in_pool(f, secret, "filelink");
    symlink_in_pool(f, "../outside", "rellink");

    assert_open_refused(f->dfd, "dirlink/secret", O_RDONLY);
    assert_open_refused(f->dfd, "filelink", O_RDONLY);
    assert_open_refused(f->dfd, "filelink", O_WRONLY | O_TRUNC);
    assert_open_refused(f->dfd, "rellink/secret", O_RDONLY);
    assert_open_refused(f->dfd, "dirlink/new", O_RDWR | O_CREAT);

    /* Even a link that stays inside the pool is refused: its target could
     * be swapped between check and use, and volumes are never links. */
    {
        g_autofree char *sub = g_build_filename(f->pool, "sub", NULL);
        g_autofree char *inner = g_build_filename(sub, "file", NULL);
        g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
        write_file(inner, "inner");
        symlink_in_pool(f, "sub/file", "inlink");
        symlink_in_pool(f, "sub", "insubdir");
        assert_open_refused(f->dfd, "inlink", O_RDONLY);
        assert_open_refused(f->dfd, "insubdir/file", O_RDONLY);
        assert_open_refused(f->dfd, "insubdir", O_RDONLY | O_DIRECTORY);
    }

    g_assert_false(g_file_test(created, G_FILE_TEST_EXISTS));
    assert_file_content(secret, "outside data");
}

static void
test_openat_dotdot(Fixture *f, gconstpointer data)
{
    g_autofree char *sub = g_build_filename(f->pool, "sub", NULL);
    g_autofree char *created = g_build_filename(f->top, "escaped", NULL);

    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    assert_open_refused(f->dfd, "../outside/secret", O_RDONLY);
    assert_open_refused(f->dfd, "sub/../../outside/secret", O_RDONLY);
    assert_open_refused(f->dfd, "../escaped", O_RDWR | O_CREAT);
    g_assert_false(g_file_test(created, G_FILE_TEST_EXISTS));
}

static void
test_openat_absolute(Fixture *f, gconstpointer data)
{
    g_autofree char *secret = g_build_filename(f->outside, "secret", NULL);

    assert_open_refused(f->dfd, secret, O_RDONLY);
    assert_open_refused(f->dfd, "/etc/passwd", O_RDONLY);
}

static void
test_openat_magiclink(void)
{
    g_autoptr(GError) error = NULL;
    g_autofd int fdfd = sp_fs_open_dir("/proc/self/fd", &error);
    g_autofd int target = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    g_autofree char *name = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(target, >=, 0);
    /* /proc/self/fd/N is a magic link: following it would jump anywhere. */
    name = g_strdup_printf("%d", target);
    assert_open_refused(fdfd, name, O_RDONLY);
}

static void
test_openat_missing_and_create(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofd int fd = -1;
    struct stat st;
    int flags;

    fd = sp_fs_openat(f->dfd, "nope", O_RDONLY, 0, &error);
    g_assert_cmpint(fd, ==, -1);
    g_assert_error(error, SP_ERROR, SP_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "'nope'"));
    g_clear_error(&error);

    fd = sp_fs_openat(f->dfd, "made", O_RDWR | O_CREAT | O_EXCL, 0600, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    /* CLOEXEC is always added: no fd leaks into qemu-img. */
    flags = fcntl(fd, F_GETFD);
    g_assert_true(flags & FD_CLOEXEC);

    g_clear_fd(&fd, NULL);
    fd = sp_fs_openat(f->dfd, "made", O_RDWR | O_CREAT | O_EXCL, 0600, &error);
    g_assert_cmpint(fd, ==, -1);
    g_assert_error(error, SP_ERROR, SP_ERROR_EXISTS);
}

/* A FIFO planted under a volume name neither blocks the open nor reads
 * as a regular file; a regular file keeps blocking I/O. */
static void
test_openat_fifo(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *fifo = g_build_filename(f->pool, "vol", NULL);
    g_autofd int fd = -1;
    g_autofd int reg = -1;
    struct stat st;

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    fd = sp_fs_openat(f->dfd, "vol", O_RDONLY, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_true(S_ISFIFO(st.st_mode));
    g_clear_fd(&fd, NULL);
    /* Writing needs a reader: ENXIO instead of a hang. */
    g_assert_cmpint(sp_fs_openat(f->dfd, "vol", O_WRONLY, 0, &error), ==, -1);
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_clear_error(&error);

    reg = sp_fs_openat(f->dfd, "reg", O_RDWR | O_CREAT, 0600, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fcntl(reg, F_GETFL) & O_NONBLOCK, ==, 0);
}

static void
test_open_dir_symlink(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *link = g_build_filename(f->top, "poollink", NULL);
    int fd;

    g_assert_cmpint(symlink(f->outside, link), ==, 0);
    fd = sp_fs_open_dir(link, &error);
    g_assert_cmpint(fd, ==, -1);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, link));
    g_clear_error(&error);
    g_assert_cmpint(unlink(link), ==, 0);

    fd = sp_fs_open_dir("relative/dir", &error);
    g_assert_cmpint(fd, ==, -1);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
}

static void
test_tmp_publish_noreplace(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(SpFsTmp) t1 = SP_FS_TMP_INIT;
    g_auto(SpFsTmp) t2 = SP_FS_TMP_INIT;
    g_autofree char *vol = g_build_filename(f->pool, "vol", NULL);
    g_autofree char *tmp2_path = NULL;

    g_assert_true(sp_fs_tmp_file(&t1, f->dfd, "vol", &error));
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(t1.name, SP_TMP_PREFIX "vol-"));
    g_assert_cmpuint(strlen(t1.name), ==, strlen(SP_TMP_PREFIX "vol-") + 6);
    g_assert_true(sp_fs_write_all(t1.fd, "first", 5, &error));

    g_assert_true(sp_fs_tmp_file(&t2, f->dfd, "vol", &error));
    g_assert_no_error(error);
    g_assert_cmpstr(t1.name, !=, t2.name);
    g_assert_true(sp_fs_write_all(t2.fd, "second", 6, &error));

    g_assert_true(sp_fs_tmp_publish(&t1, "vol", &error));
    g_assert_no_error(error);
    g_assert_null(t1.name);
    g_assert_false(sp_fs_tmp_publish(&t2, "vol", &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_EXISTS);
    g_assert_cmpstr(error->message, ==, "'vol': already exists");

    /* The loser did not clobber the winner and is still there to remove. */
    assert_file_content(vol, "first");
    tmp2_path = g_build_filename(f->pool, t2.name, NULL);
    assert_file_content(tmp2_path, "second");
    sp_fs_tmp_clear(&t2);
    g_assert_false(g_file_test(tmp2_path, G_FILE_TEST_EXISTS));
}

static void
test_mkdtemp_exchange_unlink(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autofree char *name = NULL;
    g_autofree char *a = g_build_filename(f->pool, "a", NULL);
    g_autofree char *b = g_build_filename(f->pool, "b", NULL);
    struct stat st;

    g_assert_true(sp_fs_tmp_dir(&t, f->dfd, "state", &error));
    g_assert_no_error(error);
    name = g_strdup(t.name);
    sp_fs_tmp_keep(&t);
    g_assert_true(g_str_has_prefix(name, SP_TMP_PREFIX "state-"));
    g_assert_true(sp_fs_lstat(f->dfd, name, &st, &error));
    g_assert_true(S_ISDIR(st.st_mode));
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);

    write_file(a, "A");
    write_file(b, "B");
    g_assert_true(sp_fs_exchange(f->dfd, "a", "b", &error));
    g_assert_no_error(error);
    assert_file_content(a, "B");
    assert_file_content(b, "A");

    g_assert_true(sp_fs_unlink(f->dfd, "a", FALSE, FALSE, &error));
    g_assert_false(g_file_test(a, G_FILE_TEST_EXISTS));
    g_assert_true(sp_fs_unlink(f->dfd, "a", FALSE, TRUE, &error));
    g_assert_no_error(error);
    g_assert_false(sp_fs_unlink(f->dfd, "a", FALSE, FALSE, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_true(sp_fs_unlink(f->dfd, name, TRUE, FALSE, &error));
    g_assert_no_error(error);

    /* Entry names only: a path cannot be published elsewhere. */
    g_assert_false(sp_fs_publish(f->dfd, "b", "../b", &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_true(g_file_test(b, G_FILE_TEST_EXISTS));
}

static void
test_rm_rf_symlink(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *secret = g_build_filename(f->outside, "secret", NULL);
    g_autofree char *deep = g_build_filename(f->pool, "tree/a/b", NULL);
    g_autofree char *file = g_build_filename(deep, "file", NULL);
    g_autofree char *tree = g_build_filename(f->pool, "tree", NULL);
    g_autofree char *top_link = g_build_filename(f->pool, "toplink", NULL);
    struct stat before, after;

    g_assert_cmpint(g_mkdir_with_parents(deep, 0700), ==, 0);
    write_file(file, "x");
    symlink_in_pool(f, f->outside, "tree/dirlink");
    symlink_in_pool(f, f->outside, "tree/a/b/dirlink");
    symlink_in_pool(f, secret, "tree/a/filelink");
    symlink_in_pool(f, f->outside, "toplink");
    g_assert_cmpint(stat(f->outside, &before), ==, 0);

    g_assert_true(sp_fs_rm_rf(f->dfd, "tree", &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(tree, G_FILE_TEST_EXISTS));

    /* A symlink given as the root is removed itself, never followed. */
    g_assert_true(sp_fs_rm_rf(f->dfd, "toplink", &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(top_link, G_FILE_TEST_EXISTS));

    assert_file_content(secret, "outside data");
    g_assert_cmpint(stat(f->outside, &after), ==, 0);
    g_assert_cmpint(before.st_nlink, ==, after.st_nlink);
    g_assert_cmpint(before.st_mtim.tv_sec, ==, after.st_mtim.tv_sec);
    g_assert_cmpint(before.st_mtim.tv_nsec, ==, after.st_mtim.tv_nsec);

    /* Missing is fine. */
    g_assert_true(sp_fs_rm_rf(f->dfd, "tree", &error));
    g_assert_no_error(error);
    /* And it cannot be pointed outside. */
    g_assert_false(sp_fs_rm_rf(f->dfd, "../outside", &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    assert_file_content(secret, "outside data");
}

static void
test_list_lstat(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_autofree char *c = g_build_filename(f->pool, "c", NULL);
    g_autofree char *a = g_build_filename(f->pool, "a", NULL);
    struct stat st;

    write_file(c, "");
    write_file(a, "");
    symlink_in_pool(f, f->outside, "b");
    names = sp_fs_list(f->dfd, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(names->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "a");
    g_assert_cmpstr(g_ptr_array_index(names, 1), ==, "b");
    g_assert_cmpstr(g_ptr_array_index(names, 2), ==, "c");

    g_assert_true(sp_fs_lstat(f->dfd, "b", &st, &error));
    g_assert_true(S_ISLNK(st.st_mode));
    /* A symlinked parent is refused rather than followed. */
    g_assert_false(sp_fs_lstat(f->dfd, "b/secret", &st, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
}

static void
test_io_xattr(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofd int fd = -1;
    g_autofree char *val = NULL;
    char buf[16] = {0};
    gsize len = 0;

    fd = sp_fs_openat(f->dfd, "x", O_RDWR | O_CREAT, 0600, &error);
    g_assert_no_error(error);
    g_assert_true(sp_fs_write_all(fd, "0123456789", 10, &error));
    g_assert_cmpint(sp_fs_pread_full(fd, buf, 4, 3, &error), ==, 4);
    g_assert_cmpstr(buf, ==, "3456");
    /* Short only at EOF. */
    g_assert_cmpint(sp_fs_pread_full(fd, buf, sizeof(buf), 8, &error), ==, 2);

    val = sp_fs_fgetxattr(fd, "user.safepool.format", &len, &error);
    g_assert_null(val);
    g_assert_error(error, SP_ERROR, SP_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_true(
        sp_fs_fsetxattr(fd, "user.safepool.format", "qcow2", 5, &error));
    g_assert_no_error(error);
    val = sp_fs_fgetxattr(fd, "user.safepool.format", &len, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(val, ==, "qcow2");
    g_assert_cmpuint(len, ==, 5);
}

static void
test_fset_perms(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofd int fd = -1;
    struct stat st;

    fd = sp_fs_openat(f->dfd, "p", O_RDWR | O_CREAT, 0600, &error);
    g_assert_no_error(error);
    g_assert_true(sp_fs_fset_perms(fd, 0640, (uid_t)-1, (gid_t)-1, &error));
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0640);
    if (geteuid() == 0) {
        g_assert_true(sp_fs_fset_perms(fd, 0600, 1234, 5678, &error));
        g_assert_no_error(error);
        g_assert_cmpint(fstat(fd, &st), ==, 0);
        g_assert_cmpint(st.st_uid, ==, 1234);
        g_assert_cmpint(st.st_gid, ==, 5678);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    }
}

static void
test_normalize_abs(void)
{
    static const struct {
        const char *in;
        const char *out; /* NULL = refused */
    } cases[] = {
        {"/", "/"},
        {"//", "/"},
        {"/a/b", "/a/b"},
        {"//a//b//", "/a/b"},
        {"/a/./b/.", "/a/b"},
        {"/./a", "/a"},
        {"/a/..b/c..", "/a/..b/c.."},
        {"/a/../b", NULL},
        {"/..", NULL},
        {"/a/b/..", NULL},
        {"a/b", NULL},
        {"./a", NULL},
        {"", NULL},
        {"/a\nb", NULL},
        {"/a\tb", NULL},
        {"/a\x7f", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *got = sp_fs_normalize_abs(cases[i].in, &error);

        g_test_message("normalize '%s'", cases[i].in);
        g_assert_cmpstr(got, ==, cases[i].out);
        if (!cases[i].out)
            g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        else
            g_assert_no_error(error);
    }
}

static void
test_relative_to(void)
{
    static const struct {
        const char *root, *path, *rel;
    } cases[] = {
        {"/a/b", "/a/b/c/d", "c/d"},
        {"/a/b/", "/a/b//c", "c"},
        {"/a/b", "/a/b", NULL},
        {"/a/b", "/a/b/", NULL},
        {"/a/b", "/a/bc", NULL},
        {"/a/b", "/a/bc/d", NULL},
        {"/a/b", "/a", NULL},
        {"/a/b", "/x/a/b/c", NULL},
        {"/a/b", "/a/b/../c", NULL},
        {"/", "/etc/passwd", "etc/passwd"},
        {"/", "/", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = sp_fs_relative_to(cases[i].root, cases[i].path);

        g_test_message("'%s' under '%s'", cases[i].path, cases[i].root);
        g_assert_cmpstr(got, ==, cases[i].rel);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(path, fn)                                                          \
    g_test_add("/util/fs/" path, Fixture, NULL, fixture_setup, fn,             \
               fixture_teardown)
    ADD("openat/symlink-component", test_openat_symlink_component);
    ADD("openat/dotdot", test_openat_dotdot);
    ADD("openat/absolute", test_openat_absolute);
    ADD("openat/missing-and-create", test_openat_missing_and_create);
    ADD("openat/fifo", test_openat_fifo);
    ADD("open-dir/symlink", test_open_dir_symlink);
    ADD("tmp/publish-noreplace", test_tmp_publish_noreplace);
    ADD("tmp/mkdtemp-exchange-unlink", test_mkdtemp_exchange_unlink);
    ADD("rm-rf/symlink", test_rm_rf_symlink);
    ADD("list-lstat", test_list_lstat);
    ADD("io-xattr", test_io_xattr);
    ADD("fset-perms", test_fset_perms);
#undef ADD
    g_test_add_func("/util/fs/openat/magiclink", test_openat_magiclink);
    g_test_add_func("/util/fs/normalize-abs", test_normalize_abs);
    g_test_add_func("/util/fs/relative-to", test_relative_to);
    return g_test_run();
}
