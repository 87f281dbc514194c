/* Sealed archives through the CLI on a tmpfs root: keys from files, fds
 * and passphrases; what the policy allows of plain archives; refusals
 * that leave the root (even a missing one) exactly as it was. */
#include <fcntl.h>
#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vtpm-testlib.h"

#define R(f) "--root", (f)->root
#define D(f) "--domain-xml", (f)->dom_xml

static void
set_policy(VtFixture *f, const char *extra)
{
    g_autofree char *text =
        g_strdup_printf("[vtpm]\nswtpm_user=tss\nswtpm_group=tss\n%s", extra);

    g_assert_true(g_file_set_contents(f->config, text, -1, NULL));
}

/* Run safepool with @secret on fd 3 (a pipe closed after writing) and
 * @argv; returns the exit status, stderr in *err. */
static int
run_with_fd3(const char *secret, gsize len, char **err, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocessLauncher) l = NULL;
    g_autoptr(GSubprocess) p = NULL;
    const char *a;
    va_list ap;
    int fds[2];

    g_ptr_array_add(argv, (gpointer)g_getenv("SAFEPOOL_BIN"));
    va_start(ap, err);
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    g_assert_cmpint(pipe(fds), ==, 0);
    g_assert_cmpint(write(fds[1], secret, len), ==, (gssize)len);
    close(fds[1]);
    l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                  G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_take_fd(l, fds[0], 3);
    p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata,
                                     &error);
    g_assert_no_error(error);
    g_clear_pointer(err, g_free); /* callers reuse one err across runs */
    g_subprocess_communicate_utf8(p, NULL, NULL, NULL, err, &error);
    g_assert_no_error(error);
    return g_subprocess_get_exit_status(p);
}

static void
test_policy_and_plain(void)
{
    VtFixture f;
    g_autofree char *plain = NULL, *err = NULL, *root2 = NULL;

    vt_setup(&f);
    vt_make_state(&f);
    plain = g_build_filename(f.dir, "plain.tar", NULL);
    root2 = g_build_filename(f.dir, "root2", NULL);
    /* no key: a usage error that names --no-encrypt */
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--output", plain, NULL),
                    ==, 2);
    g_assert_nonnull(strstr(err, "a key is needed"));
    /* the default policy writes and reads no plain archive */
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--no-encrypt", "--output", plain, NULL),
                    ==, 1);
    g_assert_cmpstr(err, ==,
                    "safepool: --no-encrypt: the policy requires "
                    "sealed archives ([vtpm] require_sealed=true)\n");
    g_assert_false(g_file_test(plain, G_FILE_TEST_EXISTS));
    set_policy(&f, "require_sealed=false\n");
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--no-encrypt", "--output", plain, NULL),
                    ==, 0);
    /* without --allow-plain a plain archive is refused, root not made */
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", "--root", root2,
                           "--key-file", f.key, "--input", plain, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "not a sealed archive (a plain archive is "
                                 "restored only with --allow-plain)"));
    g_assert_false(g_file_test(root2, G_FILE_TEST_EXISTS));
    set_policy(&f, "");
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", "--root", root2,
                           "--allow-plain", "--input", plain, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "--allow-plain: the policy requires"));
    g_assert_false(g_file_test(root2, G_FILE_TEST_EXISTS));
    set_policy(&f, "require_sealed=false\n");
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", "--root", root2,
                           "--allow-plain", "--input", plain, NULL),
                    ==, 0);
    vt_teardown(&f);
}

static void
test_usage(void)
{
    VtFixture f;
    g_autofree char *err = NULL, *a = NULL;

    vt_setup(&f);
    a = g_build_filename(f.dir, "a", NULL);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--key-file", f.key, "--passphrase-file", f.key,
                           "--output", a, NULL),
                    ==, 2);
    g_assert_nonnull(strstr(err, "give one key"));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--key-file", f.key, "--to-volume", "p/v", NULL),
                    ==, 2);
    g_assert_nonnull(strstr(err, "need --connect"));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", R(&f),
                           "--key-file", f.key, "--input", a, "--keep-volume",
                           NULL),
                    ==, 2);
    g_assert_nonnull(strstr(err, "--keep-volume needs --from-volume"));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", R(&f),
                           "--key-file", f.key, NULL),
                    ==, 2);
    g_assert_nonnull(strstr(err, "give --input ARCHIVE or --from-volume"));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--key-file", f.key, "--no-encrypt", "--output", a,
                           NULL),
                    ==, 2);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "verify", R(&f), D(&f),
                           "--key-file", f.key, NULL),
                    ==, 2);
    vt_teardown(&f);
}

/* Keys from a FIFO or a symlink are refused; from a pipe on an fd they
 * work; a wrong key and a flipped byte leave the root as it was. */
static void
test_keys_and_refusals(void)
{
    VtFixture f;
    g_autofree char *err = NULL, *a = NULL, *fifo = NULL;
    g_autofree char *link = NULL, *root2 = NULL, *key = NULL, *msg = NULL;
    g_autofree char *before = NULL, *after = NULL, *bytes = NULL;
    gsize klen = 0, alen = 0;
    char wrong[32];

    vt_setup(&f);
    vt_make_state(&f);
    a = g_build_filename(f.dir, "a.sealed", NULL);
    fifo = g_build_filename(f.dir, "fifo", NULL);
    link = g_build_filename(f.dir, "keylink", NULL);
    root2 = g_build_filename(f.dir, "root2", NULL);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_assert_cmpint(symlink(f.key, link), ==, 0);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--key-file", fifo, "--output", a, NULL),
                    ==, 1);
    msg =
        g_strdup_printf("safepool: key file '%s': not a regular file\n", fifo);
    g_assert_cmpstr(err, ==, msg);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--key-file", link, "--output", a, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "is a symlink"));
    g_assert_false(g_file_test(a, G_FILE_TEST_EXISTS));

    g_assert_true(g_file_get_contents(f.key, &key, &klen, NULL));
    g_assert_cmpint(run_with_fd3(key, klen, &err, "vtpm", "save", R(&f), D(&f),
                                 "--key-fd", "3", "--output", a, NULL),
                    ==, 0);
    g_assert_cmpint(run_with_fd3(key, 31, &err, "vtpm", "save", R(&f), D(&f),
                                 "--key-fd", "3", "--output", fifo, NULL),
                    ==, 1);
    g_assert_cmpstr(err, ==,
                    "safepool: --key-fd 3: a key is exactly 32 "
                    "bytes, not 31\n");
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "save", R(&f), D(&f),
                           "--key-fd", "9", "--output", a, NULL),
                    ==, 2);
    g_assert_nonnull(strstr(err, "--key-fd 9: not an open file descriptor"));

    /* refusals leave a missing root missing and an existing one as it was */
    memset(wrong, 'w', sizeof wrong);
    g_assert_cmpint(run_with_fd3(wrong, 32, &err, "vtpm", "restore", "--root",
                                 root2, "--key-fd", "3", "--input", a, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "sealed with key id"));
    g_assert_false(g_file_test(root2, G_FILE_TEST_EXISTS));
    before = vt_snapshot(f.root);
    g_assert_cmpint(run_with_fd3(wrong, 32, &err, "vtpm", "restore", R(&f),
                                 "--key-fd", "3", "--input", a, NULL),
                    ==, 1);
    g_assert_true(g_file_get_contents(a, &bytes, &alen, NULL));
    bytes[alen - 100] ^= 0x20;
    g_assert_true(g_file_set_contents(a, bytes, alen, NULL));
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", R(&f),
                           "--key-file", f.key, "--input", a, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "fails authentication"));
    after = vt_snapshot(f.root);
    g_assert_cmpstr(before, ==, after);
    /* the same archive unflipped restores with the key on an fd */
    bytes[alen - 100] ^= 0x20;
    g_assert_true(g_file_set_contents(a, bytes, alen, NULL));
    g_assert_cmpint(run_with_fd3(key, klen, &err, "--json", "vtpm", "restore",
                                 "--root", root2, "--key-fd", "3", "--input", a,
                                 NULL),
                    ==, 0);
    vt_teardown(&f);
}

static void
test_passphrase(void)
{
    VtFixture f;
    g_autofree char *err = NULL, *out = NULL, *a = NULL, *pass = NULL;
    g_autofree char *root2 = NULL;

    vt_setup(&f);
    vt_make_state(&f);
    set_policy(&f, "argon2_memory=1M\nargon2_iterations=2\n");
    a = g_build_filename(f.dir, "p.sealed", NULL);
    pass = g_build_filename(f.dir, "pass", NULL);
    root2 = g_build_filename(f.dir, "root2", NULL);
    vt_write(pass, "a passphrase\n", 0600);
    g_assert_cmpint(vt_run(&out, &err, NULL, "--json", "vtpm", "save", R(&f),
                           D(&f), "--passphrase-file", pass, "--output", a,
                           NULL),
                    ==, 0);
    g_assert_nonnull(strstr(out, "\"sealed\" : true"));
    g_assert_nonnull(strstr(out, "\"key_id\" : \""));
    /* the same passphrase on an fd, without its newline */
    set_policy(&f, "argon2_memory=8K\nargon2_iterations=1\n"
                   "argon2_max_memory=512K\nargon2_max_iterations=1\n");
    g_assert_cmpint(run_with_fd3("a passphrase", 12, &err, "vtpm", "restore",
                                 "--root", root2, "--passphrase-fd", "3",
                                 "--input", a, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "Argon2id with 1024 KiB, 2 iterations, 1 "
                                 "lanes is outside what the policy allows"));
    g_assert_false(g_file_test(root2, G_FILE_TEST_EXISTS));
    set_policy(&f, "");
    g_assert_cmpint(run_with_fd3("a passphrase", 12, &err, "vtpm", "restore",
                                 "--root", root2, "--passphrase-fd", "3",
                                 "--input", a, NULL),
                    ==, 0);
    g_assert_cmpint(vt_run(NULL, &err, NULL, "vtpm", "restore", "--root", root2,
                           "--key-file", f.key, "--input", a, NULL),
                    ==, 1);
    g_assert_nonnull(strstr(err, "sealed with a passphrase (Argon2id)"));
    vt_teardown(&f);
}

int
main(int argc, char **argv)
{
    if (!vt_test_init(&argc, &argv))
        return 77; /* skipped */
    g_test_add_func("/vtpm/sealed/policy-and-plain", test_policy_and_plain);
    g_test_add_func("/vtpm/sealed/usage", test_usage);
    g_test_add_func("/vtpm/sealed/keys-and-refusals", test_keys_and_refusals);
    g_test_add_func("/vtpm/sealed/passphrase", test_passphrase);
    return g_test_run();
}
