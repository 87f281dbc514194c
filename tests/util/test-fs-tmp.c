/* SpFsTmp, the one pool-entry lifecycle: a temporary is invisible to the
 * sweeper while its maker lives, gone after publish/exchange/discard, and
 * swept once its maker died. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"

typedef struct {
    char *dir;
    int dfd;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("sp-test-tmp-XXXXXX", &error);
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
    g_free(f->dir);
}

/* Entries of the directory, lock file excluded. */
static guint
count_entries(Fixture *f)
{
    g_autoptr(GPtrArray) names = sp_fs_list(f->dfd, NULL);
    guint n = 0;

    for (guint i = 0; i < names->len; i++)
        n += !g_str_equal(g_ptr_array_index(names, i), ".safepool.lock");
    return n;
}

static void
test_discard_on_clear(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    {
        g_auto(SpFsTmp) t = SP_FS_TMP_INIT;

        g_assert_true(sp_fs_tmp_file(&t, f->dfd, "create", &error));
        g_assert_no_error(error);
        g_assert_true(sp_fs_tmp_still_ours(&t, "test", NULL, &error));
        g_assert_cmpuint(count_entries(f), ==, 1);
    }
    g_assert_cmpuint(count_entries(f), ==, 0);
    {
        g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
        g_autofd int fd = -1;

        /* a whole tree goes too */
        g_assert_true(sp_fs_tmp_dir(&t, f->dfd, "restore", &error));
        g_assert_cmpint(mkdirat(t.fd, "tpm2", 0700), ==, 0);
        fd = openat(t.fd, "tpm2/x", O_CREAT | O_WRONLY, 0600);
        g_assert_cmpint(fd, >=, 0);
    }
    g_assert_cmpuint(count_entries(f), ==, 0);
}

static void
test_exchange(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autofree char *vol = g_build_filename(f->dir, "vol", NULL);
    g_autofree char *got = NULL;
    g_autofd int old = -1;

    g_assert_true(g_file_set_contents(vol, "old", -1, NULL));
    old = open(vol, O_RDONLY);
    g_assert_true(sp_fs_tmp_file(&t, f->dfd, "upload", &error));
    g_assert_true(sp_fs_write_all(t.fd, "new", 3, &error));
    g_assert_true(sp_fs_tmp_exchange(&t, "vol", &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(vol, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "new");
    /* the hidden name now holds the old content, which discard removes */
    g_assert_cmpuint(count_entries(f), ==, 2);
    g_assert_true(sp_fs_tmp_discard(&t, &error));
    g_assert_cmpuint(count_entries(f), ==, 1);
}

static void
test_take(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;

    g_assert_cmpint(mkdirat(f->dfd, "state", 0700), ==, 0);
    g_assert_true(sp_fs_tmp_take(&t, f->dfd, "state", f->dfd, "delete",
                                 SP_FS_TMP_NONE, &error));
    g_assert_no_error(error);
    g_assert_true(t.is_dir);
    g_assert_cmpint(faccessat(f->dfd, "state", F_OK, AT_SYMLINK_NOFOLLOW), ==,
                    -1);
    g_assert_true(sp_fs_tmp_discard(&t, &error));
    g_assert_cmpuint(count_entries(f), ==, 0);
    /* nothing to take */
    g_assert_false(sp_fs_tmp_take(&t, f->dfd, "state", f->dfd, "delete",
                                  SP_FS_TMP_NONE, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_NOT_FOUND);
}

/* A temporary whose file was swapped (qemu-img deletes its output when a
 * create fails; a racing writer could replace it) is not ours. */
static void
test_still_ours(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autofd int fd = -1;

    g_assert_true(sp_fs_tmp_file(&t, f->dfd, "create", &error));
    g_assert_cmpint(unlinkat(f->dfd, t.name, 0), ==, 0);
    fd = openat(f->dfd, t.name, O_CREAT | O_EXCL | O_WRONLY, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_false(sp_fs_tmp_still_ours(&t, "volume 'v'", NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "removed or replaced"));
}

/* The sweeper takes what a dead maker left, never a live maker's. */
static void
test_sweep(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
    g_auto(SpFsTmp) live = SP_FS_TMP_INIT;
    int pipefd[2];
    char name[256] = {0};
    pid_t pid;
    int status;

    g_assert_true(sp_fs_tmp_file(&live, f->dfd, "create", &error));
    g_assert_cmpint(pipe(pipefd), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        SpFsTmp dead = SP_FS_TMP_INIT;

        if (!sp_fs_tmp_dir(&dead, f->dfd, "restore", NULL))
            _exit(1);
        if (write(pipefd[1], dead.name, strlen(dead.name)) < 0)
            _exit(1);
        raise(SIGKILL); /* a crash: nothing cleaned up */
    }
    close(pipefd[1]);
    g_assert_cmpint(read(pipefd[0], name, sizeof(name) - 1), >, 0);
    close(pipefd[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_cmpuint(count_entries(f), ==, 2);

    g_assert_true(sp_fs_sweep(f->dfd, "test", removed, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(removed->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(removed, 0), ==, name);
    g_assert_true(sp_fs_tmp_still_ours(&live, "live", NULL, &error));
    g_assert_cmpuint(count_entries(f), ==, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn)                                                          \
    g_test_add("/util/fs-tmp/" path, Fixture, NULL, fixture_setup, fn,         \
               fixture_teardown)
    ADD("discard-on-clear", test_discard_on_clear);
    ADD("exchange", test_exchange);
    ADD("take", test_take);
    ADD("still-ours", test_still_ours);
    ADD("sweep", test_sweep);
#undef ADD
    return g_test_run();
}
