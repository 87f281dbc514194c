/* sp_pool_build (libvirt's pool-build for dir pools): directories made fd
 * by fd, a symlink anywhere refused, mode and owner applied on the fd, and
 * nothing outside the pool path ever chowned or chmodded. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "image/sp-pool.h"
#include "util/sp-error.h"

typedef struct {
    char *dir;
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("sp-build-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    const char *argv[] = {"/bin/rm", "-rf", f->dir, NULL};
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                               NULL, NULL, NULL, NULL, NULL));
    g_free(f->dir);
}

static void
assert_mode_owner(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    struct stat st;

    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISDIR(st.st_mode));
    g_assert_cmpuint(st.st_mode & 07777, ==, mode);
    g_assert_cmpuint(st.st_uid, ==, uid);
    g_assert_cmpuint(st.st_gid, ==, gid);
}

/* Missing parents are made 0755, the pool gets its mode and owner. */
static void
test_fresh(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *parent = g_build_filename(f->dir, "a", "b", NULL);
    g_autofree char *pool = g_build_filename(parent, "pool", NULL);

    g_assert_cmpint(sp_pool_build(pool, 0750, 1, 2, FALSE, NULL, &error), ==,
                    0);
    g_assert_no_error(error);
    assert_mode_owner(pool, 0750, 1, 2);
    assert_mode_owner(parent, 0755, getuid(), getgid());
}

/* No mode given: a new directory gets 0711, an existing one keeps its own. */
static void
test_default_mode(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *fresh = g_build_filename(f->dir, "fresh", NULL);
    g_autofree char *old = g_build_filename(f->dir, "old", NULL);

    g_assert_cmpint(sp_pool_build(fresh, -1, -1, -1, FALSE, NULL, &error), ==,
                    0);
    assert_mode_owner(fresh, 0711, getuid(), getgid());
    g_assert_cmpint(g_mkdir(old, 0750), ==, 0);
    g_assert_cmpint(chmod(old, 0750), ==, 0);
    g_assert_cmpint(sp_pool_build(old, -1, -1, -1, FALSE, NULL, &error), ==, 0);
    g_assert_no_error(error);
    assert_mode_owner(old, 0750, getuid(), getgid());
}

/* A symlink planted at the pool path, or above it, is refused and the
 * directory it points to keeps its mode and owner. */
static void
test_symlink(Fixture *f, gconstpointer data)
{
    g_autofree char *outside = g_build_filename(f->dir, "outside", NULL);
    g_autofree char *link = g_build_filename(f->dir, "pool", NULL);
    g_autofree char *uplink = g_build_filename(f->dir, "up", NULL);
    g_autofree char *below = g_build_filename(uplink, "pool", NULL);
    g_autofree char *made_outside = g_build_filename(outside, "pool", NULL);
    struct stat before, after;

    g_assert_cmpint(g_mkdir(outside, 0700), ==, 0);
    g_assert_cmpint(chmod(outside, 0700), ==, 0);
    g_assert_cmpint(symlink(outside, link), ==, 0);
    g_assert_cmpint(symlink(outside, uplink), ==, 0);
    g_assert_cmpint(stat(outside, &before), ==, 0);

    for (int i = 0; i < 2; i++) {
        g_autoptr(GError) error = NULL;
        const char *p = i == 0 ? link : below;

        g_assert_cmpint(sp_pool_build(p, 0755, 1, 1, FALSE, NULL, &error), ==,
                        -1);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "symlink"));
    }
    g_assert_cmpint(stat(outside, &after), ==, 0);
    g_assert_cmpuint(after.st_mode, ==, before.st_mode);
    g_assert_cmpuint(after.st_uid, ==, before.st_uid);
    g_assert_cmpuint(after.st_gid, ==, before.st_gid);
    g_assert_cmpint(after.st_ctim.tv_sec, ==, before.st_ctim.tv_sec);
    g_assert_cmpint(after.st_ctim.tv_nsec, ==, before.st_ctim.tv_nsec);
    g_assert_false(g_file_test(made_outside, G_FILE_TEST_EXISTS));
}

/* A pool others can write is refused unless the policy allows it, and
 * nothing is made before the refusal. */
static void
test_shared_write(Fixture *f, gconstpointer data)
{
    g_autofree char *pool = g_build_filename(f->dir, "shared", NULL);
    g_autofree char *existing = g_build_filename(f->dir, "existing", NULL);
    g_autoptr(SpPolicy) allow = sp_policy_new_default();
    const gint64 modes[] = {0777, 0757, 0775};

    for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(
            sp_pool_build(pool, modes[i], -1, 100, FALSE, NULL, &error), ==,
            -1);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "writable"));
        g_assert_nonnull(strstr(error->message, "allow_shared_write"));
        g_assert_false(g_file_test(pool, G_FILE_TEST_EXISTS));
    }
    /* group-writable by root's own group is fine */
    {
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(sp_pool_build(pool, 0770, -1, 0, FALSE, NULL, &error),
                        ==, 0);
        g_assert_no_error(error);
    }
    /* an existing world-writable directory is not made a pool either */
    {
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(g_mkdir(existing, 0700), ==, 0);
        g_assert_cmpint(chmod(existing, 01777), ==, 0);
        g_assert_cmpint(
            sp_pool_build(existing, -1, -1, -1, FALSE, NULL, &error), ==, -1);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    }
    allow->allow_shared_write = TRUE;
    {
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(sp_pool_build(pool, 0777, -1, -1, FALSE, allow, &error),
                        ==, 0);
        g_assert_no_error(error);
        assert_mode_owner(pool, 0777, getuid(), getgid());
    }
}

static void
test_bad_input(Fixture *f, gconstpointer data)
{
    g_autofree char *pool = g_build_filename(f->dir, "p", NULL);
    const char *bad[] = {"relative/pool", "/", "/a/../etc"};

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(
            sp_pool_build(bad[i], 0700, -1, -1, FALSE, NULL, &error), ==, -1);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    }
    {
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(sp_pool_build(pool, 04755, -1, -1, FALSE, NULL, &error),
                        ==, -1);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_false(g_file_test(pool, G_FILE_TEST_EXISTS));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/pool-build/fresh", Fixture, NULL, setup, test_fresh, teardown);
    g_test_add("/pool-build/default-mode", Fixture, NULL, setup,
               test_default_mode, teardown);
    g_test_add("/pool-build/symlink", Fixture, NULL, setup, test_symlink,
               teardown);
    g_test_add("/pool-build/bad-input", Fixture, NULL, setup, test_bad_input,
               teardown);
    g_test_add("/pool-build/shared-write", Fixture, NULL, setup,
               test_shared_write, teardown);
    return g_test_run();
}
