/* sp-secret: sealed memfds for children, wiped buffers, careful file
 * reading. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-secret.h"

static const char passphrase[] = "correct horse battery staple";

static void
test_memfd_sealed(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpSecret) s =
        sp_secret_new((const guint8 *)passphrase, strlen(passphrase));
    g_autofd int fd = sp_secret_to_memfd(s, &error);
    char buf[64] = {0};
    int seals;

    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, 0);
    g_assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    seals = fcntl(fd, F_GET_SEALS);
    g_assert_cmpint(seals, ==,
                    F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);

    g_assert_cmpint(read(fd, buf, sizeof(buf)), ==, (gssize)strlen(passphrase));
    g_assert_cmpstr(buf, ==, passphrase);

    g_assert_cmpint(pwrite(fd, "x", 1, 0), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
    g_assert_cmpint(ftruncate(fd, 0), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
    g_assert_cmpint(fcntl(fd, F_ADD_SEALS, 0), ==, -1);
    g_assert_cmpint(errno, ==, EPERM);
}

static gboolean hook_called;
static gboolean hook_saw_zeros;

static void
check_wiped(void *mem, gsize size)
{
    const guint8 *p = mem;

    hook_called = TRUE;
    hook_saw_zeros = TRUE;
    for (gsize i = 0; i < size; i++) {
        if (p[i] != 0)
            hook_saw_zeros = FALSE;
    }
    g_assert_cmpint(munmap(mem, size), ==, 0);
}

/* sp_secret_free erases the bytes before giving the memory back: the hook
 * sees the real mapping between the wipe and munmap. */
static void
test_wiped_on_free(void)
{
    SpSecret *s = sp_secret_new((const guint8 *)passphrase, strlen(passphrase));

    g_assert_cmpuint(sp_secret_len(s), ==, strlen(passphrase));
    g_assert_cmpmem(sp_secret_data(s), sp_secret_len(s), passphrase,
                    strlen(passphrase));
    sp_secret_set_release_hook(check_wiped);
    sp_secret_free(s);
    sp_secret_set_release_hook(NULL);
    g_assert_true(hook_called);
    g_assert_true(hook_saw_zeros);
}

static char *
tmp_file(const char *dir, const char *name, const char *content, gssize len)
{
    char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, content, len, NULL));
    return path;
}

static void
test_from_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("sp-test-secret-XXXXXX", &error);
    g_autofree char *one = tmp_file(dir, "one", "pass\n", -1);
    g_autofree char *two = tmp_file(dir, "two", "pass\n\n", -1);
    g_autofree char *bin = tmp_file(dir, "bin", "a\0b", 3);
    g_autofree char *link = g_build_filename(dir, "link", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    g_autofree char *max = NULL;
    g_autofree char *big = NULL;
    g_autofree char *fill = g_malloc(64 * 1024 + 1);
    SpSecret *s;

    memset(fill, 'k', 64 * 1024 + 1);
    max = tmp_file(dir, "max", fill, 64 * 1024);
    big = tmp_file(dir, "big", fill, 64 * 1024 + 1);

    s = sp_secret_new_from_file(one, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(sp_secret_data(s), sp_secret_len(s), "pass", 4);
    sp_secret_free(s);

    /* Only one trailing newline is stripped. */
    s = sp_secret_new_from_file(two, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(sp_secret_data(s), sp_secret_len(s), "pass\n", 5);
    sp_secret_free(s);

    s = sp_secret_new_from_file(bin, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(sp_secret_data(s), sp_secret_len(s), "a\0b", 3);
    sp_secret_free(s);

    s = sp_secret_new_from_file(max, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(sp_secret_len(s), ==, 64 * 1024);
    sp_secret_free(s);

    s = sp_secret_new_from_file(big, &error);
    g_assert_null(s);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, big));
    g_clear_error(&error);

    g_assert_cmpint(symlink(one, link), ==, 0);
    s = sp_secret_new_from_file(link, &error);
    g_assert_null(s);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, link));
    g_clear_error(&error);

    s = sp_secret_new_from_file(missing, &error);
    g_assert_null(s);
    g_assert_error(error, SP_ERROR, SP_ERROR_NOT_FOUND);
    g_clear_error(&error);

    {
        g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        s = sp_secret_new_from_file(fifo, &error);
        g_assert_null(s);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_clear_error(&error);
        g_assert_cmpint(unlink(fifo), ==, 0);
    }

    s = sp_secret_new_from_file(dir, &error);
    g_assert_null(s);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_clear_error(&error);

    for (const char *const *n =
             (const char *const[]){"one", "two", "bin", "max", "big", "link",
                                   NULL};
         *n; n++) {
        g_autofree char *p = g_build_filename(dir, *n, NULL);
        g_assert_cmpint(unlink(p), ==, 0);
    }
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* An fd the caller was handed (--key-fd): a pipe is read to its end, raw
 * bytes are kept as they are (a key may end in '\n'), text loses one. */
static void
test_from_fd(void)
{
    static const guint8 key[] = {'k', 0, 0xff, '\n'};
    g_autoptr(GError) error = NULL;
    int p[2];
    SpSecret *s;

    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(write(p[1], key, sizeof key), ==, sizeof key);
    close(p[1]);
    s = sp_secret_new_from_fd(p[0], "--key-fd 3", FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(sp_secret_data(s), sp_secret_len(s), key, sizeof key);
    sp_secret_free(s);
    close(p[0]);

    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(write(p[1], key, sizeof key), ==, sizeof key);
    close(p[1]);
    g_assert_cmpint(fcntl(p[0], F_SETFL, O_NONBLOCK), ==, 0);
    s = sp_secret_new_from_fd(p[0], "--passphrase-fd 3", TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(sp_secret_data(s), sp_secret_len(s), key, 3);
    sp_secret_free(s);
    close(p[0]);

    /* an empty text secret, and more than 64 KiB, are refused by name */
    g_assert_cmpint(pipe(p), ==, 0);
    close(p[1]);
    g_assert_null(
        sp_secret_new_from_fd(p[0], "--passphrase-fd 3", TRUE, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "--passphrase-fd 3: is empty");
    g_clear_error(&error);
    close(p[0]);
    {
        int z = open("/dev/zero", O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(z, >=, 0);
        g_assert_null(sp_secret_new_from_fd(z, "--key-fd 4", FALSE, &error));
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "--key-fd 4: larger than"));
        g_clear_error(&error);
        close(z);
    }
}

static int moved_wiped;

static void
count_wiped(void *mem, gsize size)
{
    const guint8 *b = mem;
    gboolean zero = TRUE;

    for (gsize i = 0; i < size; i++)
        zero = zero && b[i] == 0;
    moved_wiped += zero;
    g_assert_cmpint(munmap(mem, size), ==, 0);
}

/* Growing moves the bytes to a larger locked mapping and wipes the old. */
static void
test_append(void)
{
    g_autofree guint8 *block = g_malloc(3000);
    SpSecret *s = sp_secret_new_size(0);

    for (gsize i = 0; i < 3000; i++)
        block[i] = (guint8)(i * 7 + 1);
    sp_secret_set_release_hook(count_wiped);
    for (int i = 0; i < 10; i++)
        sp_secret_append(s, block, 3000);
    g_assert_cmpuint(sp_secret_len(s), ==, 30000);
    for (int i = 0; i < 10; i++)
        g_assert_cmpmem(sp_secret_data(s) + i * 3000, 3000, block, 3000);
    g_assert_cmpint(moved_wiped, >=, 3); /* 4 KiB -> 8 -> 16 -> 32 */
    sp_secret_free(s);
    sp_secret_set_release_hook(NULL);
}

static gint64
vm_locked_kb(void)
{
    g_autofree char *status = NULL;
    const char *line;

    g_assert_true(
        g_file_get_contents("/proc/self/status", &status, NULL, NULL));
    line = strstr(status, "VmLck:");
    g_assert_nonnull(line);
    return g_ascii_strtoll(line + strlen("VmLck:"), NULL, 10);
}

/* The buffer is kept out of swap (mlock); as root nothing can prevent it. */
static void
test_mlocked(void)
{
    gint64 before, during;
    SpSecret *s;

#if defined(__SANITIZE_ADDRESS__)
    g_test_skip("AddressSanitizer turns mlock into a no-op");
    return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    g_test_skip("AddressSanitizer turns mlock into a no-op");
    return;
#endif
#endif
    if (geteuid() != 0) {
        g_test_skip("mlock may be limited by RLIMIT_MEMLOCK when not root");
        return;
    }
    before = vm_locked_kb();
    s = sp_secret_new((const guint8 *)passphrase, strlen(passphrase));
    during = vm_locked_kb();
    g_assert_cmpint(during, >, before);
    sp_secret_free(s);
    g_assert_cmpint(vm_locked_kb(), ==, before);
}

/* A cephx key from libvirt's secret driver (raw bytes) becomes the
 * base64 text librados takes; a key on an inherited pipe is read whole. */
static void
test_base64_and_fd(void)
{
    static const guint8 raw[] = {0x41, 0x51, 0x42, 0x00, 0xff, 0x10, 0x20};
    g_autofree char *ref = g_base64_encode(raw, sizeof(raw));
    g_autoptr(SpSecret) b = sp_secret_new_base64(raw, sizeof(raw));
    g_autoptr(SpSecret) f = NULL;
    g_autoptr(GError) error = NULL;
    int p[2];

    g_assert_cmpstr(sp_secret_cstr(b), ==, ref);
    g_assert_cmpuint(sp_secret_len(b), ==, strlen(ref));
    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(write(p[1], "AQBkey==\n", 9), ==, 9);
    close(p[1]);
    f = sp_secret_new_from_fd(p[0], "--secret-fd", TRUE, &error);
    g_assert_no_error(error);
    close(p[0]);
    g_assert_cmpstr(sp_secret_cstr(f), ==, "AQBkey==");
    g_assert_null(sp_secret_new_from_fd(99, "--secret-fd 99", TRUE, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "--secret-fd 99"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/util/secret/memfd-sealed", test_memfd_sealed);
    g_test_add_func("/util/secret/wiped-on-free", test_wiped_on_free);
    g_test_add_func("/util/secret/from-file", test_from_file);
    g_test_add_func("/util/secret/from-fd", test_from_fd);
    g_test_add_func("/util/secret/append", test_append);
    g_test_add_func("/util/secret/mlocked", test_mlocked);
    g_test_add_func("/util/secret/base64-and-fd", test_base64_and_fd);
    return g_test_run();
}
