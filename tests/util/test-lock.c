/* sp-lock: per-name OFD locks in one pool lock file, which never collide
 * with qemu's own image locks. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-exec.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-lock.h"

typedef struct {
    char *dir;
    int dfd;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("sp-test-lock-XXXXXX", &error);
    g_assert_no_error(error);
    f->dfd = sp_fs_open_dir(f->dir, &error);
    g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *parent = g_path_get_dirname(f->dir);
    g_autofree char *base = g_path_get_basename(f->dir);
    g_autofd int pfd = sp_fs_open_dir(parent, &error);

    close(f->dfd);
    g_assert_true(sp_fs_rm_rf(pfd, base, &error));
    g_assert_no_error(error);
    g_free(f->dir);
}

static void
assert_locked(int dfd, const char *name, gboolean exclusive)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpLock) lock = sp_lock_acquire(dfd, name, exclusive, &error);
    g_autofree char *expected =
        g_strdup_printf("volume '%s': locked by another operation", name);

    g_assert_null(lock);
    g_assert_error(error, SP_ERROR, SP_ERROR_LOCKED);
    g_assert_cmpstr(error->message, ==, expected);
}

static SpLock *
take(int dfd, const char *name, gboolean exclusive)
{
    g_autoptr(GError) error = NULL;
    SpLock *lock = sp_lock_acquire(dfd, name, exclusive, &error);

    g_assert_no_error(error);
    g_assert_nonnull(lock);
    return lock;
}

/* Two acquires in one process are two open file descriptions: they
 * conflict like two processes would. */
static void
test_exclusive_conflicts(Fixture *f, gconstpointer data)
{
    g_autoptr(SpLock) a = take(f->dfd, "vol1", TRUE);
    g_autoptr(SpLock) other = take(f->dfd, "vol2", TRUE);

    assert_locked(f->dfd, "vol1", TRUE);
    assert_locked(f->dfd, "vol1", FALSE);
    assert_locked(f->dfd, "vol2", TRUE);
    g_assert_nonnull(a);
    g_assert_nonnull(other);
}

static void
test_shared(Fixture *f, gconstpointer data)
{
    g_autoptr(SpLock) a = take(f->dfd, "base.qcow2", FALSE);
    g_autoptr(SpLock) b = take(f->dfd, "base.qcow2", FALSE);

    assert_locked(f->dfd, "base.qcow2", TRUE);
    g_clear_pointer(&a, sp_lock_release);
    /* One reader is still there. */
    assert_locked(f->dfd, "base.qcow2", TRUE);
    g_clear_pointer(&b, sp_lock_release);
    a = take(f->dfd, "base.qcow2", TRUE);
}

static void
test_release(Fixture *f, gconstpointer data)
{
    SpLock *a = take(f->dfd, "vol", TRUE);

    assert_locked(f->dfd, "vol", TRUE);
    sp_lock_release(a);
    a = take(f->dfd, "vol", TRUE);
    sp_lock_release(a);
}

/* Another process (here a forked child) sees the lock too. */
static void
test_other_process(Fixture *f, gconstpointer data)
{
    g_autoptr(SpLock) a = take(f->dfd, "vol", TRUE);
    int status = 0;
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        GError *error = NULL;
        SpLock *l = sp_lock_acquire(f->dfd, "vol", FALSE, &error);
        SpLock *o = sp_lock_acquire(f->dfd, "other", TRUE, &error);
        _exit(!l && o ? 0 : 1);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_nonnull(a);
}

static void
test_lock_file(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(f->dir, SP_LOCK_FILE, NULL);
    g_autofree char *target = g_build_filename(f->dir, "target", NULL);
    g_autoptr(SpLock) a = take(f->dfd, "vol", TRUE);
    g_autofree char *content = NULL;
    SpLock *b;
    struct stat st;

    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(st.st_size, ==, 0);

    /* A lock file replaced by a symlink is refused, not followed. */
    g_assert_true(g_file_set_contents(target, "keep", -1, NULL));
    g_assert_cmpint(unlink(path), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
    b = sp_lock_acquire(f->dfd, "x", TRUE, &error);
    g_assert_null(b);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, SP_LOCK_FILE));
    /* The symlink's target was not created into or truncated. */
    g_assert_true(g_file_get_contents(target, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, "keep");
    g_assert_nonnull(a);
}

/* The byte a name locks is part of the protocol between the CLI and the
 * daemon (possibly different builds): FNV-1a 64 of the name, top two bits
 * cleared. Computed here independently. */
static void
test_offset_protocol(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpLock) lock = take(f->dfd, "vm-disk.qcow2", TRUE);
    g_autofd int fd = -1;
    guint64 h = 0xcbf29ce484222325ULL;
    struct flock fl = {0};

    (void)lock; /* held while another fd probes the byte with F_OFD_GETLK */

    for (const char *p = "vm-disk.qcow2"; *p; p++) {
        h ^= (guchar)*p;
        h *= 0x100000001b3ULL;
    }
    fd = sp_fs_openat(f->dfd, SP_LOCK_FILE, O_RDWR, 0, &error);
    g_assert_no_error(error);
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)(h & 0x3fffffffffffffffULL);
    fl.l_len = 1;
    g_assert_cmpint(fcntl(fd, F_OFD_GETLK, &fl), ==, 0);
    g_assert_cmpint(fl.l_type, ==, F_WRLCK);
    g_assert_cmpint(fl.l_pid, ==, -1); /* an OFD lock */
    /* The neighbouring bytes are free. */
    memset(&fl, 0, sizeof(fl)); /* GETLK rewrote it; l_pid must be 0 */
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)(h & 0x3fffffffffffffffULL) + 1;
    fl.l_len = 1;
    g_assert_cmpint(fcntl(fd, F_OFD_GETLK, &fl), ==, 0);
    g_assert_cmpint(fl.l_type, ==, F_UNLCK);
}

/* qemu's own lock bytes on an image (100 and up) and safepool's locks
 * (in the pool's lock file, never on the image) never meet: qemu-img can
 * work on a temporary while its name is locked. */
static void
test_tmp_qemu_img(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autofree char *path = NULL;
    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");
    g_autofree char *out = NULL;
    struct stat st;

    if (!qemu_img) {
        g_test_skip("qemu-img not installed");
        return;
    }
    g_assert_true(sp_fs_tmp_file(&t, f->dfd, "vol", &error));
    g_assert_no_error(error);
    g_assert_cmpint(ftruncate(t.fd, 1024 * 1024), ==, 0);
    assert_locked(f->dfd, t.name, FALSE);
    path = g_build_filename(f->dir, t.name, NULL);
    {
        const char *argv[] = {qemu_img, "resize", "-f", "raw",
                              path,     "2M",     NULL};
        g_assert_true(sp_exec_run(argv, NULL, &out, &error));
        g_assert_no_error(error);
    }
    g_assert_cmpint(fstat(t.fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 2 * 1024 * 1024);
}

/* The pool's lock file goes only while nobody holds a lock in it. */
static void
test_remove_file(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(f->dir, SP_LOCK_FILE, NULL);
    g_autoptr(SpLock) lock = take(f->dfd, "vol", FALSE);

    g_assert_false(sp_lock_remove_file(f->dfd, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_LOCKED);
    g_clear_error(&error);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    g_clear_pointer(&lock, sp_lock_release);
    g_assert_true(sp_lock_remove_file(f->dfd, &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    /* absent is fine */
    g_assert_true(sp_lock_remove_file(f->dfd, &error));
    g_assert_no_error(error);
}

/* A busy lock is waited for, up to the timeout. */
static void
test_wait(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpLock) held = take(f->dfd, "vol", TRUE);
    g_autoptr(SpLock) lock = NULL;
    gint64 t0 = g_get_monotonic_time();

    (void)held; /* only held: clang warns on an unused autoptr */
    lock = sp_lock_acquire_wait(f->dfd, "vol", TRUE, 200, &error);
    g_assert_null(lock);
    g_assert_error(error, SP_ERROR, SP_ERROR_LOCKED);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 200 * 1000);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn)                                                          \
    g_test_add("/util/lock/" path, Fixture, NULL, fixture_setup, fn,           \
               fixture_teardown)
    ADD("exclusive-conflicts", test_exclusive_conflicts);
    ADD("shared", test_shared);
    ADD("release", test_release);
    ADD("other-process", test_other_process);
    ADD("lock-file", test_lock_file);
    ADD("offset-protocol", test_offset_protocol);
    ADD("tmp-qemu-img", test_tmp_qemu_img);
    ADD("remove-file", test_remove_file);
    ADD("wait", test_wait);
#undef ADD
    return g_test_run();
}
