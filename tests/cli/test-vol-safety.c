/* safepool never leaves its pool (symlinks, hostile names and backing
 * paths), serialises concurrent creates, and clones sparse files sparsely. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-util.h"

typedef struct {
    const char *path;
    struct stat st;
    char *data;
    gsize len;
} Snapshot;

static void
snap(Snapshot *s, const char *path)
{
    s->path = path;
    g_assert_cmpint(lstat(path, &s->st), ==, 0);
    g_assert_true(g_file_get_contents(path, &s->data, &s->len, NULL));
}

static void
assert_untouched(Snapshot *s)
{
    struct stat now;
    g_autofree char *data = NULL;
    gsize len = 0;

    g_assert_cmpint(lstat(s->path, &now), ==, 0);
    cli_assert_same_stat(&s->st, &now);
    g_assert_true(g_file_get_contents(s->path, &data, &len, NULL));
    g_assert_cmpmem(data, len, s->data, s->len);
    g_free(s->data);
}

static char *
vol_xml(CliEnv *e, const char *fname, const char *name, const char *backing,
        const char *bfmt)
{
    g_autofree char *xml = NULL;

    if (backing)
        xml = g_strdup_printf(
            "<volume><name>%s</name><capacity unit='M'>1</capacity>"
            "<target><format "
            "type='qcow2'/></target><backingStore><path>%s</path>"
            "<format type='%s'/></backingStore></volume>",
            name, backing, bfmt);
    else
        xml = g_strdup_printf(
            "<volume><name>%s</name><capacity unit='M'>1</capacity>"
            "<target><format type='raw'/></target></volume>",
            name);
    return cli_write_xml(e, fname, xml);
}

/* Long: one pool with its symlinks and a victim outside it, attacked
 * through names, symlinked names and backing paths in turn; each step
 * checks the victim and /etc are unchanged. */
static void
test_escapes(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *outside = g_build_filename(e->dir, "outside", NULL);
    g_autofree char *victim = g_build_filename(outside, "victim.img", NULL);
    g_autofree char *etc_link = g_build_filename(e->pool, "etc", NULL);
    g_autofree char *victim_link = g_build_filename(e->pool, "v.img", NULL);
    g_autofree char *outdir_link = g_build_filename(e->pool, "out", NULL);
    g_autofree char *x = NULL;
    g_autofree char *err = NULL;
    Snapshot passwd, vic, etcdir;
    struct stat st;

    g_assert_cmpint(g_mkdir(outside, 0755), ==, 0);
    cli_write_file(victim, "QFI\xfb not really, outside data", -1);
    g_assert_cmpint(symlink("/etc", etc_link), ==, 0);
    g_assert_cmpint(symlink(victim, victim_link), ==, 0);
    g_assert_cmpint(symlink(outside, outdir_link), ==, 0);
    snap(&passwd, "/etc/passwd");
    snap(&vic, victim);
    g_assert_cmpint(lstat("/etc", &etcdir.st), ==, 0);

    /* Names that try to leave the pool are refused (exit 1). */
    const char *bad_names[] = {"../x.img", "etc/passwd", "out/new.img", "..",
                               "a/b"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad_names); i++) {
        g_autofree char *f = vol_xml(e, "bad.xml", bad_names[i], NULL, NULL);
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir",
                                e->pool, f, NULL),
                        ==, 1);
    }
    g_autofree char *escaped = g_build_filename(e->dir, "x.img", NULL);
    g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));
    g_autofree char *newout = g_build_filename(outside, "new.img", NULL);
    g_assert_false(g_file_test(newout, G_FILE_TEST_EXISTS));

    /* A symlink's name is taken: exit 4, nothing follows it. */
    x = vol_xml(e, "etc.xml", "etc", NULL, NULL);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 4);
    g_clear_pointer(&x, g_free);
    x = vol_xml(e, "v.xml", "v.img", NULL, NULL);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 4);

    /* Backing stores outside, or reached through a symlink, are refused. */
    const char *bad_backing[] = {"/etc/passwd", "etc/passwd", NULL, NULL, NULL};
    g_autofree char *via_etc = g_build_filename(e->pool, "etc", "passwd", NULL);
    g_autofree char *via_out =
        g_build_filename(e->pool, "out", "victim.img", NULL);
    g_autofree char *up = g_strdup_printf("%s/../outside/victim.img", e->pool);
    bad_backing[2] = via_etc;
    bad_backing[3] = via_out;
    bad_backing[4] = victim_link;
    for (gsize i = 0; i < G_N_ELEMENTS(bad_backing); i++) {
        g_autofree char *f =
            vol_xml(e, "b.xml", "b.qcow2", bad_backing[i], "raw");
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(cli_run(e, NULL, &err, "vol-create", "--pool-dir",
                                e->pool, f, NULL),
                        ==, 1);
        g_assert_nonnull(strstr(err, "backing"));
        g_autofree char *bp = g_build_filename(e->pool, "b.qcow2", NULL);
        g_assert_false(g_file_test(bp, G_FILE_TEST_EXISTS));
    }
    {
        g_autofree char *f = vol_xml(e, "b.xml", "b.qcow2", up, "raw");
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir",
                                e->pool, f, NULL),
                        ==, 1);
    }

    /* Operations on the symlinks never touch their targets. */
    const char *links[] = {"etc", "v.img", "out"};
    for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-delete", "--pool-dir",
                                e->pool, links[i], NULL),
                        ==, 1);
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-resize", "--pool-dir",
                                e->pool, links[i], "2M", NULL),
                        ==, 1);
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-dumpxml", "--pool-dir",
                                e->pool, links[i], NULL),
                        ==, 1);
        g_autofree char *f = vol_xml(e, "c.xml", "c.img", NULL, NULL);
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir",
                                e->pool, "--from", links[i], f, NULL),
                        ==, 1);
    }
    /* The pool itself given through a symlink is refused. */
    {
        g_autofree char *f = vol_xml(e, "d.xml", "d.img", NULL, NULL);
        g_autofree char *pool_link =
            g_build_filename(e->dir, "pool-link", NULL);
        g_assert_cmpint(symlink(outside, pool_link), ==, 0);
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir",
                                pool_link, f, NULL),
                        !=, 0);
        g_autofree char *d = g_build_filename(outside, "d.img", NULL);
        g_assert_false(g_file_test(d, G_FILE_TEST_EXISTS));
    }
    /* vol-list lists none of the links. */
    g_autofree char *out = NULL;
    g_assert_cmpint(
        cli_run(e, &out, NULL, "vol-list", "--pool-dir", e->pool, NULL), ==, 0);
    g_assert_null(strstr(out, "etc"));
    g_assert_null(strstr(out, "v.img"));

    assert_untouched(&passwd);
    assert_untouched(&vic);
    g_assert_cmpint(lstat("/etc", &st), ==, 0);
    g_assert_cmpuint(st.st_ino, ==, etcdir.st.st_ino);
    g_assert_cmpuint(st.st_uid, ==, etcdir.st.st_uid);
    g_assert_true(g_file_test(etc_link, G_FILE_TEST_IS_SYMLINK));
    g_assert_true(g_file_test(victim_link, G_FILE_TEST_IS_SYMLINK));
}

/* Start safepool @n times at once; collect exit codes. */
static void
spawn_many(CliEnv *e, GPtrArray *xmls, int *codes)
{
    GPid *pids = g_new0(GPid, xmls->len);

    for (guint i = 0; i < xmls->len; i++) {
        const char *argv[] = {g_getenv("SAFEPOOL_BIN"),
                              "--config",
                              e->conf,
                              "vol-create",
                              "--pool-dir",
                              e->pool,
                              g_ptr_array_index(xmls, i),
                              NULL};
        g_autoptr(GError) error = NULL;
        g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD |
                                        G_SPAWN_STDOUT_TO_DEV_NULL |
                                        G_SPAWN_STDERR_TO_DEV_NULL,
                                    NULL, NULL, &pids[i], &error));
    }
    for (guint i = 0; i < xmls->len; i++) {
        int status = 0;
        g_assert_cmpint(waitpid(pids[i], &status, 0), ==, pids[i]);
        g_assert_true(WIFEXITED(status));
        codes[i] = WEXITSTATUS(status);
    }
    g_free(pids);
}

static void
test_concurrent_same_name(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);
    int codes[16];
    int ok = 0, conflict = 0;

    /* qcow2: qemu-img runs, so the creates overlap in time. */
    g_autofree char *x = cli_write_xml(
        e, "same.xml",
        "<volume><name>same.qcow2</name><capacity unit='G'>1</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    for (int i = 0; i < 16; i++)
        g_ptr_array_add(xmls, g_strdup(x));
    spawn_many(e, xmls, codes);
    for (int i = 0; i < 16; i++) {
        if (codes[i] == 0)
            ok++;
        else if (codes[i] == 4)
            conflict++;
    }
    g_assert_cmpint(ok, ==, 1);
    g_assert_cmpint(conflict, ==, 15);
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
    g_autofree char *p = g_build_filename(e->pool, "same.qcow2", NULL);
    g_autoptr(JsonObject) info = cli_qemu_img_info(p, NULL);
    g_assert_nonnull(info);
    g_assert_cmpstr(json_object_get_string_member(info, "format"), ==, "qcow2");
}

static void
test_concurrent_200(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    int codes[20];

    for (int batch = 0; batch < 10; batch++) {
        g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);
        for (int i = 0; i < 20; i++) {
            g_autofree char *name =
                g_strdup_printf("v%03d.img", batch * 20 + i);
            g_autofree char *f = g_strdup_printf("%s.xml", name);
            g_ptr_array_add(xmls, vol_xml(e, f, name, NULL, NULL));
        }
        spawn_many(e, xmls, codes);
        for (int i = 0; i < 20; i++)
            g_assert_cmpint(codes[i], ==, 0);
    }
    g_autoptr(GDir) d = g_dir_open(e->pool, 0, NULL);
    const char *n;
    guint vols = 0;
    while ((n = g_dir_read_name(d)))
        if (n[0] != '.')
            vols++;
    g_assert_cmpuint(vols, ==, 200);
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
}

static void
test_sparse_clone(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *x = cli_write_xml(
        e, "src.xml",
        "<volume><name>src.img</name><capacity unit='GiB'>1</capacity>"
        "<allocation>0</allocation>"
        "<target><format type='raw'/></target></volume>");
    /* sparse because the allocation says so (without one libvirt, and
     * safepool, allocate a raw clone fully) */
    g_autofree char *cx = cli_write_xml(
        e, "dst.xml",
        "<volume><name>dst.img</name><capacity unit='GiB'>1</capacity>"
        "<allocation>0</allocation>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *sp = g_build_filename(e->pool, "src.img", NULL);
    g_autofree char *dp = g_build_filename(e->pool, "dst.img", NULL);
    g_autofree guint8 *buf = g_malloc(4 << 20);
    g_autofree guint8 *a = g_malloc(1 << 20);
    g_autofree guint8 *b = g_malloc(1 << 20);
    struct stat ss, ds;
    int fd;

    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 0);
    /* 64 MiB of data: 16 x 4 MiB, spread over the 1 GiB. */
    fd = open(sp, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    for (int i = 0; i < 16; i++) {
        for (gsize j = 0; j < (4u << 20); j++)
            buf[j] = (guint8)(i * 31 + j * 7 + 1);
        g_assert_cmpint(pwrite(fd, buf, 4 << 20, (off_t)i * (64 << 20) + 12345),
                        ==, 4 << 20);
    }
    g_assert_cmpint(fsync(fd), ==, 0);
    close(fd);

    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool,
                            "--from", "src.img", cx, NULL),
                    ==, 0);
    g_assert_cmpint(stat(sp, &ss), ==, 0);
    g_assert_cmpint(stat(dp, &ds), ==, 0);
    g_assert_cmpint(ds.st_size, ==, ss.st_size);
    /* Holes stay holes: about 64 MiB allocated, not 1 GiB. */
    g_assert_cmpint((gint64)ds.st_blocks * 512, <=,
                    (gint64)ss.st_blocks * 512 + (1 << 20));
    g_assert_cmpint((gint64)ds.st_blocks * 512, <, 80 << 20);

    int fa = open(sp, O_RDONLY), fb = open(dp, O_RDONLY);
    for (off_t off = 0; off < ss.st_size; off += 1 << 20) {
        g_assert_cmpint(pread(fa, a, 1 << 20, off), ==, 1 << 20);
        g_assert_cmpint(pread(fb, b, 1 << 20, off), ==, 1 << 20);
        g_assert_true(memcmp(a, b, 1 << 20) == 0);
    }
    close(fa);
    close(fb);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vol-safety/escapes", test_escapes);
    g_test_add_func("/vol-safety/concurrent-same-name",
                    test_concurrent_same_name);
    g_test_add_func("/vol-safety/concurrent-200", test_concurrent_200);
    g_test_add_func("/vol-safety/sparse-clone", test_sparse_clone);
    return g_test_run();
}
