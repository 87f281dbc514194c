/* vTPM states through the CLI on a tmpfs root: save/restore round trip,
 * verify/relabel, create twice, planted symlinks, conflicts, and restores
 * killed after each step. */
#include <fcntl.h>
#include <signal.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vtpm-testlib.h"

#define R(f) "--root", (f)->root
#define D(f) "--domain-xml", (f)->dom_xml
#define K(f) "--key-file", (f)->key

static char *
archive_path(VtFixture *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}

static void
test_roundtrip(void)
{
    VtFixture f;
    g_autofree char *tar = NULL, *root2 = NULL, *err = NULL, *out = NULL;
    g_autofree char *before = NULL, *after_save = NULL, *restored = NULL;
    g_autofree char *uuid_dir = NULL, *uuid_dir2 = NULL;
    g_autofree char *perm = NULL;
    struct stat st1, st2;
    char label[256];
    ssize_t n;

    vt_setup(&f);
    vt_make_state(&f);
    tar = archive_path(&f, "state.tar");
    uuid_dir = g_build_filename(f.root, VT_UUID, NULL);
    perm = g_build_filename(f.state, "tpm2-00.permall", NULL);
    before = vt_snapshot(uuid_dir);
    g_assert_cmpint(stat(perm, &st1), ==, 0);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 0);
    /* save reads only: same bytes, owners, labels, and no mtime/ctime change */
    after_save = vt_snapshot(uuid_dir);
    g_assert_cmpstr(before, ==, after_save);
    g_assert_cmpint(stat(perm, &st2), ==, 0);
    g_assert_cmpint(st1.st_mtim.tv_nsec, ==, st2.st_mtim.tv_nsec);
    g_assert_cmpint(st1.st_mtim.tv_sec, ==, st2.st_mtim.tv_sec);
    g_assert_cmpint(st1.st_ctim.tv_sec, ==, st2.st_ctim.tv_sec);
    g_assert_cmpint(st1.st_ctim.tv_nsec, ==, st2.st_ctim.tv_nsec);
    /* never overwrites an existing archive */
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 4);
    g_assert_nonnull(strstr(err, tar));

    root2 = g_build_filename(f.dir, "root2", NULL);
    g_assert_cmpint(vt_run(&out, NULL, NULL, "--json", "vtpm", "restore", K(&f),
                           "--root", root2, D(&f), "--input", tar, NULL),
                    ==, 0);
    g_assert_nonnull(strstr(out, "\"uuid\" : \"" VT_UUID "\""));
    uuid_dir2 = g_build_filename(root2, VT_UUID, NULL);
    restored = vt_snapshot(uuid_dir2);
    /* identical sha256, owners, modes and security.selinux of every entry */
    g_assert_cmpstr(before, ==, restored);
    g_assert_nonnull(strstr(restored, "security.selinux=" VT_LABEL));
    g_assert_nonnull(
        strstr(restored, "./tpm2 type=40000 mode=0700 owner=102:106"));
    g_assert_nonnull(strstr(
        restored, "./tpm2/sub/nvram.bin type=100000 mode=0600 owner=102:106"));
    g_assert_cmpint(stat(root2, &st1), ==, 0);
    g_assert_cmpint(st1.st_mode & 07777, ==, 0711);
    g_assert_cmpint(stat(uuid_dir2, &st1), ==, 0);
    g_assert_cmpint(st1.st_mode & 07777, ==, 0711);
    g_assert_cmpint(st1.st_uid, ==, 0);
    n = getxattr(perm, "security.selinux", label, sizeof label - 1);
    g_assert_cmpint(n, >, 0);
    label[n] = '\0';
    g_assert_cmpstr(label, ==, VT_LABEL);
    /* the restored state verifies clean */
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "verify", "--root", root2,
                           D(&f), NULL),
                    ==, 0);
    /* a domain with another uuid is refused */
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", K(&f), "--root",
                           root2, "--uuid",
                           "00000000-0000-0000-0000-000000000001", "--input",
                           tar, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "not '00000000-0000-0000-0000-000000000001'"));
    vt_teardown(&f);
}

static void
test_verify_relabel(void)
{
    VtFixture f;
    g_autofree char *out = NULL, *err = NULL, *perm = NULL;
    g_autofree char *subf = NULL;

    vt_setup(&f);
    vt_make_state(&f);
    perm = g_build_filename(f.state, "tpm2-00.permall", NULL);
    subf = g_build_filename(f.state, "sub", "nvram.bin", NULL);
    g_assert_cmpint(chmod(perm, 0644), ==, 0);
    g_assert_cmpint(chown(subf, 0, 0), ==, 0);
    g_assert_cmpint(setxattr(f.state, "security.selinux",
                             "system_u:object_r:tmp_t:s0", 26, 0),
                    ==, 0);
    g_assert_cmpint(vt_run(&out, &err, NULL, "--json", "vtpm", "verify", R(&f),
                           D(&f), NULL),
                    ==, 1);
    g_assert_nonnull(strstr(out,
                            "\"path\" : \"" VT_UUID "/tpm2/tpm2-00.permall\",\n"
                            "      \"field\" : \"mode\",\n"
                            "      \"expected\" : \"0600 or stricter\",\n"
                            "      \"actual\" : \"0644\""));
    g_assert_nonnull(strstr(out,
                            "\"path\" : \"" VT_UUID "/tpm2/sub/nvram.bin\",\n"
                            "      \"field\" : \"owner\",\n"
                            "      \"expected\" : \"102:106\",\n"
                            "      \"actual\" : \"0:0\""));
    g_assert_nonnull(
        strstr(out, "\"path\" : \"" VT_UUID "/tpm2\",\n"
                    "      \"field\" : \"label\",\n"
                    "      \"expected\" : \"" VT_LABEL "\",\n"
                    "      \"actual\" : \"system_u:object_r:tmp_t:s0\""));
    g_assert_nonnull(strstr(err, "3 differences"));
    g_assert_cmpint(
        vt_run(&out, NULL, NULL, "vtpm", "relabel", R(&f), D(&f), NULL), ==, 0);
    g_assert_nonnull(strstr(out, "(fixed)"));
    g_assert_cmpint(
        vt_run(NULL, NULL, NULL, "vtpm", "verify", R(&f), D(&f), NULL), ==, 0);
    vt_teardown(&f);
}

static void
test_create_twice(void)
{
    VtFixture f;
    g_autofree char *before = NULL, *after = NULL, *err = NULL;

    vt_setup(&f);
    vt_make_state(&f);
    before = vt_snapshot(f.root);
    g_assert_cmpint(
        vt_run(NULL, &err, NULL, "vtpm", "create", R(&f), D(&f), NULL), ==, 4);
    g_assert_nonnull(
        strstr(err, "vTPM state '" VT_UUID "': exists, left untouched"));
    after = vt_snapshot(f.root);
    g_assert_cmpstr(before, ==, after);
    vt_teardown(&f);
}

static char *
passwd_facts(void)
{
    struct stat st;
    char names[4096];
    ssize_t n = llistxattr("/etc/passwd", names, sizeof names);
    g_autofree char *sum = NULL;
    g_autofree char *data = NULL;
    gsize len;

    g_assert_cmpint(lstat("/etc/passwd", &st), ==, 0);
    g_assert_true(g_file_get_contents("/etc/passwd", &data, &len, NULL));
    sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
    return g_strdup_printf("%u:%u %o ctime=%ld.%ld xattrs=%.*s sha=%s",
                           st.st_uid, st.st_gid, st.st_mode, st.st_ctim.tv_sec,
                           st.st_ctim.tv_nsec, (int)MAX(n, 0), names, sum);
}

static void
test_planted_symlink(void)
{
    VtFixture f;
    g_autofree char *before = passwd_facts();
    g_autofree char *after = NULL, *out = NULL, *err = NULL;
    g_autofree char *link = NULL, *link2 = NULL, *tar = NULL;
    struct stat st;

    vt_setup(&f);
    vt_make_state(&f);
    link = g_build_filename(f.state, "evil", NULL);
    link2 = g_build_filename(f.state, "sub", "evil2", NULL);
    g_assert_cmpint(symlink("/etc/passwd", link), ==, 0);
    g_assert_cmpint(symlink("/etc", link2), ==, 0);
    g_assert_cmpint(lchown(link, 0, 0), ==, 0);
    g_assert_cmpint(chmod(f.state, 0755), ==, 0);
    g_assert_cmpint(
        vt_run(&out, &err, NULL, "vtpm", "relabel", R(&f), D(&f), NULL), ==, 1);
    /* the rest was fixed, the symlinks reported and left alone */
    g_assert_nonnull(
        strstr(out, VT_UUID "/tpm2: mode is 0755, expected 0700 (fixed)"));
    g_assert_nonnull(
        strstr(out, VT_UUID
               "/tpm2/evil: type is symlink, expected file or directory\n"));
    g_assert_nonnull(strstr(out, VT_UUID "/tpm2/sub/evil2: type is symlink"));
    g_assert_nonnull(strstr(err, "2 differences left"));
    g_assert_cmpint(lstat(link, &st), ==, 0);
    g_assert_true(S_ISLNK(st.st_mode));
    g_assert_cmpint(st.st_uid, ==, 0);
    /* save refuses a state with a symlink; restore/create never follow */
    tar = archive_path(&f, "x.tar");
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "tpm2/evil': is a symlink"));
    g_assert_false(g_file_test(tar, G_FILE_TEST_EXISTS));
    g_assert_cmpint(
        vt_run(NULL, NULL, NULL, "vtpm", "create", R(&f), D(&f), NULL), ==, 4);
    after = passwd_facts();
    g_assert_cmpstr(before, ==, after);
    vt_teardown(&f);
}

static void
test_conflicts(void)
{
    VtFixture f;
    g_autofree char *tar = NULL, *err = NULL, *lock = NULL;
    g_autofree char *before = NULL, *after = NULL;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd, pfd[2];
    pid_t child;
    char c;

    vt_setup(&f);
    vt_make_state(&f);
    tar = archive_path(&f, "s.tar");
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 0);
    /* act as a running swtpm: a child holding a POSIX write lock on .lock
     * (in a child because our own snapshot's close() would drop it) */
    lock = g_build_filename(f.state, ".lock", NULL);
    g_assert_cmpint(pipe(pfd), ==, 0);
    child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        fd = open(lock, O_RDWR | O_CREAT, 0640);
        if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0 || write(pfd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    g_assert_cmpint(read(pfd[0], &c, 1), ==, 1);
    before = vt_snapshot(f.root);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", K(&f), R(&f),
                           D(&f), "--input", tar, NULL),
                    ==, 4);
    g_assert_nonnull(strstr(err, "in use by a running swtpm"));
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "delete", R(&f), D(&f),
                           "--force", NULL),
                    ==, 4);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", "/nonexistent/x.tar", NULL),
                    ==, 4);
    after = vt_snapshot(f.root);
    g_assert_cmpstr(before, ==, after);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* delete needs --connect or --force */
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(
        vt_run(NULL, &err, NULL, "vtpm", "delete", R(&f), D(&f), NULL), ==, 2);
    g_assert_nonnull(strstr(err, "--force"));
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "delete", R(&f), D(&f),
                           "--force", NULL),
                    ==, 0);
    g_assert_false(g_file_test(f.state, G_FILE_TEST_EXISTS));
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(
        vt_run(NULL, &err, NULL, "vtpm", "verify", R(&f), D(&f), NULL), ==, 1);
    g_assert_nonnull(strstr(err, "does not exist"));
    /* usage errors */
    g_assert_cmpint(
        vt_run(NULL, NULL, NULL, "vtpm", "save", K(&f), R(&f), D(&f), NULL), ==,
        2);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "bogus", NULL), ==, 2);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "verify", R(&f), NULL), ==,
                    2);
    vt_teardown(&f);
}

/* Kill restore after each step: the old or the new state must be in
 * place, and the next command removes the temporaries. */
static void
test_crash(gconstpointer data)
{
    const char *step = data;
    VtFixture f;
    g_autofree char *tar = NULL, *old = NULL, *new_snap = NULL;
    g_autofree char *now = NULL, *err = NULL, *uuid_dir = NULL;
    g_autofree char *subf = NULL;
    const char *env[] = {"SAFEPOOL_VTPM_TEST_ABORT_AFTER", step, NULL};
    gboolean new_expected =
        g_str_equal(step, "swap") || g_str_equal(step, "cleanup");
    g_autoptr(GDir) dir = NULL;
    const char *name;
    guint tmps = 0;

    vt_setup(&f);
    vt_make_state(&f);
    uuid_dir = g_build_filename(f.root, VT_UUID, NULL);
    subf = g_build_filename(f.state, "sub", "nvram.bin", NULL);
    tar = archive_path(&f, "new.tar");
    vt_write(subf, "the NEW nvram\n", 0600);
    g_assert_cmpint(
        vt_run(NULL, NULL, NULL, "vtpm", "relabel", R(&f), D(&f), NULL), ==, 0);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 0);
    new_snap = vt_snapshot(uuid_dir);
    vt_write(subf, "the OLD nvram\n", 0600);
    g_assert_cmpint(
        vt_run(NULL, NULL, NULL, "vtpm", "relabel", R(&f), D(&f), NULL), ==, 0);
    old = vt_snapshot(uuid_dir);
    g_assert_cmpstr(old, !=, new_snap);

    g_assert_cmpint(vt_run(NULL, NULL, env, "vtpm", "restore", K(&f), R(&f),
                           D(&f), "--input", tar, NULL),
                    ==, 128 + SIGKILL);
    now = vt_snapshot(uuid_dir);
    g_assert_cmpstr(now, ==, new_expected ? new_snap : old);
    dir = g_dir_open(f.root, 0, NULL);
    while ((name = g_dir_read_name(dir)))
        tmps += g_str_has_prefix(name, ".safepool-tmp-");
    g_assert_cmpint(tmps, ==,
                    g_str_equal(step, "swap") ? 1
                    : new_expected            ? 0
                                              : 1);
    g_dir_close(g_steal_pointer(&dir));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "list", R(&f), NULL), ==,
                    0);
    if (tmps)
        g_assert_nonnull(
            strstr(err, "removed stale temporary '.safepool-tmp-restore-"));
    dir = g_dir_open(f.root, 0, NULL);
    while ((name = g_dir_read_name(dir)))
        g_assert_false(g_str_has_prefix(name, ".safepool-tmp-"));
    g_clear_pointer(&now, g_free);
    now = vt_snapshot(uuid_dir);
    g_assert_cmpstr(now, ==, new_expected ? new_snap : old);
    vt_teardown(&f);
}

static void
test_crash_fresh_root(void)
{
    VtFixture f;
    g_autofree char *tar = NULL, *root2 = NULL, *uuid2 = NULL;
    const char *env[] = {"SAFEPOOL_VTPM_TEST_ABORT_AFTER", "apply", NULL};

    vt_setup(&f);
    vt_make_state(&f);
    tar = archive_path(&f, "s.tar");
    root2 = g_build_filename(f.dir, "root2", NULL);
    uuid2 = g_build_filename(root2, VT_UUID, NULL);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 0);
    g_assert_cmpint(vt_run(NULL, NULL, env, "vtpm", "restore", K(&f), "--root",
                           root2, D(&f), "--input", tar, NULL),
                    ==, 128 + SIGKILL);
    g_assert_false(g_file_test(uuid2, G_FILE_TEST_EXISTS));
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "restore", K(&f), "--root",
                           root2, D(&f), "--input", tar, NULL),
                    ==, 0);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "verify", "--root", root2,
                           D(&f), NULL),
                    ==, 0);
    vt_teardown(&f);
}

/* Another domain's state file (or any file swtpm's user may link, e.g. a
 * root-owned 0666 file) hard-linked into a state: relabel must not chown,
 * chmod or relabel the shared inode, save must not copy it out. */
static void
test_planted_hardlink(void)
{
    VtFixture f;
    g_autofree char *outside = NULL, *hl = NULL, *tar = NULL;
    g_autofree char *out = NULL, *err = NULL;
    struct stat st;
    char label[256];

    vt_setup(&f);
    vt_make_state(&f);
    outside = g_build_filename(f.dir, "other-domain-state", NULL);
    vt_write(outside, "another domain's TPM secrets\n", 0666);
    g_assert_cmpint(setxattr(outside, "security.selinux",
                             "system_u:object_r:svirt_image_t:s0:c1,c2", 40, 0),
                    ==, 0);
    hl = g_build_filename(f.state, "linked", NULL);
    g_assert_cmpint(link(outside, hl), ==, 0);
    g_assert_cmpint(
        vt_run(&out, &err, NULL, "vtpm", "relabel", R(&f), D(&f), NULL), ==, 1);
    g_assert_nonnull(
        strstr(out, VT_UUID "/tpm2/linked: links is 2, expected 1\n"));
    g_assert_nonnull(strstr(err, "1 difference left"));
    g_assert_cmpint(stat(outside, &st), ==, 0);
    g_assert_cmpint(st.st_uid, ==, 0);
    g_assert_cmpint(st.st_gid, ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0666);
    g_assert_cmpint(getxattr(outside, "security.selinux", label, sizeof label),
                    ==, 40);
    g_assert_cmpint(
        memcmp(label, "system_u:object_r:svirt_image_t:s0:c1,c2", 40), ==, 0);
    g_assert_cmpint(
        vt_run(NULL, &err, NULL, "vtpm", "verify", R(&f), D(&f), NULL), ==, 1);
    tar = archive_path(&f, "x.tar");
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "tpm2/linked': has 2 hard links"));
    g_assert_false(g_file_test(tar, G_FILE_TEST_EXISTS));
    vt_teardown(&f);
}

/* A state nested deeper than any walk goes (swtpm's user owns tpm2/ and
 * can build this) must still be deletable, and must not leave a temporary
 * that every later command fails to sweep. */
static void
test_delete_deep_tree(void)
{
    VtFixture f;
    g_autofree char *err = NULL;
    g_autoptr(GString) p = NULL;
    g_autoptr(GDir) dir = NULL;
    const char *name;

    vt_setup(&f);
    vt_make_state(&f);
    p = g_string_new(f.state);
    for (int i = 0; i < 300; i++) {
        g_string_append(p, "/d");
        g_assert_cmpint(mkdir(p->str, 0700), ==, 0);
    }
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "delete", R(&f), D(&f),
                           "--force", NULL),
                    ==, 0);
    g_assert_false(g_file_test(f.state, G_FILE_TEST_EXISTS));
    dir = g_dir_open(f.root, 0, NULL);
    while ((name = g_dir_read_name(dir)))
        g_assert_false(g_str_has_prefix(name, ".safepool-tmp-"));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "list", R(&f), NULL), ==,
                    0);
    vt_teardown(&f);
}

/* One state that no walk accepts (too deep here; too many entries is the
 * same) must not hide the others from `vtpm list`. */
static void
test_list_hostile_state(void)
{
    VtFixture f;
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *other = NULL;
    g_autoptr(GString) p = NULL;

    vt_setup(&f);
    vt_make_state(&f);
    p = g_string_new(f.state);
    for (int i = 0; i < 12; i++) {
        g_string_append(p, "/d");
        g_assert_cmpint(mkdir(p->str, 0700), ==, 0);
    }
    other = g_build_filename(f.root, "00000000-0000-0000-0000-000000000001",
                             "tpm2", NULL);
    g_assert_cmpint(g_mkdir_with_parents(other, 0700), ==, 0);
    g_assert_cmpint(vt_run(&out, &err, NULL, "vtpm", "list", R(&f), NULL), ==,
                    0);
    g_assert_nonnull(
        strstr(out, "00000000-0000-0000-0000-000000000001  -  tpm2"));
    g_assert_nonnull(strstr(out, VT_UUID "  -  tpm2"));
    g_assert_nonnull(strstr(out, "differs\n"));
    g_assert_nonnull(strstr(err, "nested deeper than 8"));
    vt_teardown(&f);
}

/* A state holding both tpm2 and tpm1.2 while swtpm runs on tpm1.2: delete
 * and restore must see that swtpm, not only the directory they picked. */
static void
test_running_other_tpm_dir(void)
{
    VtFixture f;
    g_autofree char *tar = NULL, *err = NULL, *lock = NULL, *dir12 = NULL;
    g_autofree char *before = NULL, *after = NULL;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd, pfd[2];
    pid_t child;
    char c;

    vt_setup(&f);
    vt_make_state(&f);
    tar = archive_path(&f, "s.tar");
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "save", K(&f), R(&f),
                           D(&f), "--output", tar, NULL),
                    ==, 0);
    dir12 = g_build_filename(f.root, VT_UUID, "tpm1.2", NULL);
    g_assert_cmpint(mkdir(dir12, 0700), ==, 0);
    lock = g_build_filename(dir12, ".lock", NULL);
    g_assert_cmpint(pipe(pfd), ==, 0);
    child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        /* Gone with the test even when an assertion aborts it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        fd = open(lock, O_RDWR | O_CREAT, 0640);
        if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0 || write(pfd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    g_assert_cmpint(read(pfd[0], &c, 1), ==, 1);
    before = vt_snapshot(f.root);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", K(&f), R(&f),
                           "--uuid", VT_UUID, "--input", tar, NULL),
                    ==, 4);
    g_assert_nonnull(strstr(err, "in use by a running swtpm"));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "delete", R(&f), "--uuid",
                           VT_UUID, "--force", NULL),
                    ==, 4);
    g_assert_nonnull(strstr(err, "in use by a running swtpm"));
    after = vt_snapshot(f.root);
    g_assert_cmpstr(before, ==, after);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(pfd[0]);
    close(pfd[1]);
    vt_teardown(&f);
}

int
main(int argc, char **argv)
{
    if (!vt_test_init(&argc, &argv))
        return 77; /* skipped */
    g_test_add_func("/vtpm/state/save-restore-roundtrip", test_roundtrip);
    g_test_add_func("/vtpm/state/verify-relabel", test_verify_relabel);
    g_test_add_func("/vtpm/state/create-twice", test_create_twice);
    g_test_add_func("/vtpm/state/planted-symlink", test_planted_symlink);
    g_test_add_func("/vtpm/state/conflicts", test_conflicts);
    g_test_add_func("/vtpm/state/planted-hardlink", test_planted_hardlink);
    g_test_add_func("/vtpm/state/delete-deep-tree", test_delete_deep_tree);
    g_test_add_func("/vtpm/state/list-hostile-state", test_list_hostile_state);
    g_test_add_func("/vtpm/state/running-other-tpm-dir",
                    test_running_other_tpm_dir);
    g_test_add_data_func("/vtpm/crash/after-unpack", "unpack", test_crash);
    g_test_add_data_func("/vtpm/crash/after-apply", "apply", test_crash);
    g_test_add_data_func("/vtpm/crash/after-swap", "swap", test_crash);
    g_test_add_data_func("/vtpm/crash/after-cleanup", "cleanup", test_crash);
    g_test_add_func("/vtpm/crash/fresh-root", test_crash_fresh_root);
    return g_test_run();
}
