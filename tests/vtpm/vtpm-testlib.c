/* Shared helpers of the vTPM tests: a tmpfs scratch dir, running the CLI,
 * a byte-exact snapshot of a tree, and building tar archives. */
#include "vtpm-testlib.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char dom_xml[] =
    "<domain type='qemu'>\n"
    "  <name>vtpm-test</name>\n"
    "  <uuid>" VT_UUID "</uuid>\n"
    "  <devices><tpm model='tpm-crb'><backend type='emulator' version='2.0'/>"
    "</tpm></devices>\n"
    "  <seclabel type='dynamic' model='selinux' relabel='yes'>\n"
    "    <label>system_u:system_r:svirt_t:s0:c10,c20</label>\n"
    "    <imagelabel>" VT_LABEL "</imagelabel>\n"
    "  </seclabel>\n"
    "  <seclabel type='dynamic' model='dac' relabel='yes'>\n"
    "    <label>+64055:+994</label><imagelabel>+64055:+994</imagelabel>\n"
    "  </seclabel>\n"
    "</domain>\n";

gboolean
vt_test_init(int *argc, char ***argv)
{
    g_test_init(argc, argv, NULL);
    if (getuid() != 0) {
        g_printerr("skipped: needs root (tmpfs mounts, chown)\n");
        return FALSE;
    }
    /* Our tmpfs mounts vanish with the process even when a test aborts. */
    if (unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        g_error("private mount namespace: %s", g_strerror(errno));
    return TRUE;
}

void
vt_setup(VtFixture *f)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("vtpm-test-XXXXXX", &error);
    g_assert_no_error(error);
    if (mount("tmpfs", f->dir, "tmpfs", 0, "size=256m,mode=0755") < 0)
        g_error("mount tmpfs on %s: %s", f->dir, g_strerror(errno));
    f->root = g_build_filename(f->dir, "root", NULL);
    f->dom_xml = g_build_filename(f->dir, "domain.xml", NULL);
    f->state = g_build_filename(f->root, VT_UUID, "tpm2", NULL);
    g_file_set_contents(f->dom_xml, dom_xml, -1, &error);
    g_assert_no_error(error);
    f->config = g_build_filename(f->dir, "safepool.conf", NULL);
    g_file_set_contents(f->config, "[vtpm]\nswtpm_user=tss\nswtpm_group=tss\n",
                        -1, &error);
    g_assert_no_error(error);
    {
        guint8 key[32];

        for (gsize i = 0; i < sizeof key; i++)
            key[i] = (guint8)g_random_int();
        f->key = g_build_filename(f->dir, "key", NULL);
        g_file_set_contents(f->key, (const char *)key, sizeof key, &error);
        g_assert_no_error(error);
    }
    /* Inherited by every CLI run of this test. */
    g_setenv("SAFEPOOL_CONFIG", f->config, TRUE);
}

void
vt_teardown(VtFixture *f)
{
    if (umount2(f->dir, MNT_DETACH) < 0)
        g_error("umount %s: %s", f->dir, g_strerror(errno));
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->root);
    g_free(f->dom_xml);
    g_free(f->state);
    g_free(f->config);
    g_free(f->key);
}

int
vt_run(char **out, char **err, const char *const *env_extra, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) env = g_get_environ();
    g_autoptr(GError) error = NULL;
    g_autofree char *o = NULL, *e = NULL;
    const char *bin = g_getenv("SAFEPOOL_BIN");
    const char *a;
    va_list ap;
    int status = 0;

    g_assert_nonnull(bin);
    g_ptr_array_add(argv, (gpointer)bin);
    va_start(ap, env_extra);
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    env = g_environ_unsetenv(env, "SAFEPOOL_VTPM_TEST_ABORT_AFTER");
    for (gsize i = 0; env_extra && env_extra[i]; i += 2)
        env = g_environ_setenv(env, env_extra[i], env_extra[i + 1], TRUE);
    g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                 &o, &e, &status, &error);
    g_assert_no_error(error);
    if (g_test_verbose()) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata);
        g_printerr("[%s] -> %d\n%s%s", cmd, status, o, e);
    }
    /* Callers reuse one out/err across runs: replace, don't leak. */
    if (out) {
        g_free(*out);
        *out = g_steal_pointer(&o);
    }
    if (err) {
        g_free(*err);
        *err = g_steal_pointer(&e);
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

char *
vt_sha(const char *data)
{
    return g_compute_checksum_for_string(G_CHECKSUM_SHA256, data, -1);
}

static void
snap_entry(GPtrArray *lines, const char *base, const char *rel)
{
    g_autofree char *path = g_build_filename(base, rel, NULL);
    g_autoptr(GString) s = g_string_new(rel);
    struct stat st;
    char names[4096];
    ssize_t n;

    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_string_append_printf(s, " type=%o mode=%04o owner=%u:%u",
                           st.st_mode & S_IFMT, st.st_mode & 07777, st.st_uid,
                           st.st_gid);
    n = llistxattr(path, names, sizeof names);
    g_assert_cmpint(n, >=, 0);
    for (char *p = names; p < names + n; p += strlen(p) + 1) {
        char val[4096];
        ssize_t v = lgetxattr(path, p, val, sizeof val - 1);

        g_assert_cmpint(v, >=, 0);
        val[v] = '\0';
        g_string_append_printf(s, " %s=%s", p, val);
    }
    if (S_ISREG(st.st_mode)) {
        g_autofree char *data = NULL;
        gsize len;
        g_autofree char *sum = NULL;

        g_assert_true(g_file_get_contents(path, &data, &len, NULL));
        sum =
            g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
        g_string_append_printf(s, " size=%zu sha256=%s", len, sum);
    } else if (S_ISLNK(st.st_mode)) {
        g_autofree char *t = g_file_read_link(path, NULL);

        g_string_append_printf(s, " -> %s", t);
    }
    g_ptr_array_add(lines, g_string_free(g_steal_pointer(&s), FALSE));
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;

        g_assert_nonnull(d);
        while ((de = readdir(d))) {
            g_autofree char *crel = NULL;

            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            crel = g_build_filename(rel, de->d_name, NULL);
            snap_entry(lines, base, crel);
        }
        closedir(d);
    }
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
vt_snapshot(const char *dir)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

    snap_entry(lines, dir, ".");
    g_ptr_array_sort(lines, cmp_str);
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}

void
vt_write(const char *path, const char *data, mode_t mode)
{
    g_autoptr(GError) error = NULL;

    g_file_set_contents(path, data, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(chmod(path, mode), ==, 0);
}

void
vt_make_state(VtFixture *f)
{
    g_autofree char *sub = g_build_filename(f->state, "sub", NULL);
    g_autofree char *subf = g_build_filename(sub, "nvram.bin", NULL);
    g_autofree char *perm = g_build_filename(f->state, "tpm2-00.permall", NULL);
    g_autofree char *home = g_build_filename(f->dir, "home", NULL);
    const char *setup[] = {"swtpm_setup", "--tpm2",      "--tpmstate", f->state,
                           "--createek",  "--overwrite", NULL};
    g_auto(GStrv) env = g_get_environ();
    int status = -1;

    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "create", "--root",
                           f->root, "--domain-xml", f->dom_xml, NULL),
                    ==, 0);
    g_mkdir(home, 0700);
    env = g_environ_setenv(env, "HOME", home, TRUE);
    /* swtpm_setup as root; the state is chowned by relabel afterwards. */
    if (!g_spawn_sync(NULL, (char **)setup, env,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                          G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL) ||
        !g_file_test(perm, G_FILE_TEST_EXISTS)) {
        g_test_message("swtpm_setup unavailable: writing the state by hand");
        vt_write(perm, "permall-bytes-as-swtpm-would-write", 0600);
        g_autofree char *lock = g_build_filename(f->state, ".lock", NULL);
        vt_write(lock, "", 0640);
    }
    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    vt_write(subf, "nvram contents\n", 0600);
    g_assert_cmpint(vt_run(NULL, NULL, NULL, "vtpm", "relabel", "--root",
                           f->root, "--domain-xml", f->dom_xml, NULL),
                    ==, 0);
}

void
vt_build_archive(const char *path, const char *manifest, const VtEntry *entries,
                 gsize n)
{
    struct archive *a = archive_write_new();
    static char zeros[4096];

    g_assert_cmpint(archive_write_set_format_pax(a), ==, ARCHIVE_OK);
    g_assert_cmpint(archive_write_open_filename(a, path), ==, ARCHIVE_OK);
    if (manifest) {
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, "MANIFEST.json");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0600);
        archive_entry_set_size(e, strlen(manifest));
        g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_write_data(a, manifest, strlen(manifest)), ==,
                        (la_ssize_t)strlen(manifest));
        archive_entry_free(e);
    }
    for (gsize i = 0; i < n; i++) {
        const VtEntry *v = &entries[i];
        struct archive_entry *e = archive_entry_new();
        gsize len = v->data ? strlen(v->data) : 0;

        archive_entry_set_pathname(e, v->path);
        archive_entry_set_filetype(e, v->type);
        archive_entry_set_perm(e, v->type == AE_IFDIR ? 0700 : 0600);
        if (v->link)
            archive_entry_set_symlink(e, v->link);
        if (v->hardlink)
            archive_entry_set_hardlink(e, v->hardlink);
        if (v->type == AE_IFCHR)
            archive_entry_set_rdev(e, makedev(1, 3));
        if (v->sparse)
            archive_entry_sparse_add_entry(e, 0, sizeof zeros);
        archive_entry_set_size(e, v->size >= 0 ? v->size : (gint64)len);
        g_assert_cmpint(archive_write_header(a, e), >=, ARCHIVE_WARN);
        if (v->sparse)
            g_assert_cmpint(archive_write_data(a, zeros, sizeof zeros), ==,
                            (la_ssize_t)sizeof zeros);
        else if (len)
            archive_write_data(a, v->data, len);
        archive_entry_free(e);
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        g_error("archive %s: %s", path, archive_error_string(a));
    archive_write_free(a);
}
