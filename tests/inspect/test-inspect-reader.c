/* One inspector, two readers: every seed image of the fuzz corpus gives
 * the same verdict read from memory through an SpInspReader as read from
 * its file, and the reader is the only way bytes come in. */
#include <glib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "inspect/sp-inspect.h"
#include "util/sp-error.h"

typedef struct {
    GBytes *bytes;
    guint64 calls;
    guint64 read;
    gboolean fail;
} MemReader;

static gssize
mem_pread(void *opaque, void *buf, gsize len, guint64 off, GError **error)
{
    MemReader *m = opaque;
    gsize size = 0;
    const guint8 *data = g_bytes_get_data(m->bytes, &size);

    m->calls++;
    if (m->fail) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    "reader failed at %" G_GUINT64_FORMAT, off);
        return -1;
    }
    if (off >= size)
        return 0;
    len = MIN(len, size - off);
    memcpy(buf, data + off, len);
    m->read += len;
    return (gssize)len;
}

static void
compare(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, &error);
    g_autoptr(GBytes) bytes = NULL;
    MemReader m = {0};
    SpInspReader reader = {mem_pread, &m, 0};
    g_autoptr(SpInspectResult) by_fd = NULL;
    g_autoptr(SpInspectResult) by_reader = NULL;
    g_autofree char *v_fd = NULL;
    g_autofree char *v_reader = NULL;
    int fd;

    g_assert_no_error(error);
    bytes = g_mapped_file_get_bytes(mf);
    m.bytes = bytes;
    reader.size = g_bytes_get_size(bytes);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    for (SpFormat f = SP_FORMAT_UNKNOWN; f <= SP_FORMAT_RAW; f++) {
        g_clear_pointer(&by_fd, sp_inspect_result_free);
        g_clear_pointer(&by_reader, sp_inspect_result_free);
        g_clear_pointer(&v_fd, g_free);
        g_clear_pointer(&v_reader, g_free);
        by_fd = sp_inspect_fd(fd, f, NULL, &error);
        g_assert_no_error(error);
        m.read = 0;
        by_reader = sp_inspect_reader(&reader, f, NULL, &error);
        g_assert_no_error(error);
        v_fd = sp_inspect_violations_string(by_fd);
        v_reader = sp_inspect_violations_string(by_reader);
        g_test_message(
            "%s as %s: %s safe=%d [%s]", path, sp_format_to_string(f),
            sp_format_to_string(by_reader->format), by_reader->safe, v_reader);
        g_assert_cmpint(by_reader->format, ==, by_fd->format);
        g_assert_cmpuint(by_reader->formats, ==, by_fd->formats);
        g_assert_cmpint(by_reader->safe, ==, by_fd->safe);
        g_assert_cmpstr(v_reader, ==, v_fd);
        g_assert_cmpuint(by_reader->virtual_size, ==, by_fd->virtual_size);
        g_assert_cmpstr(by_reader->backing_name, ==, by_fd->backing_name);
        /* every byte the inspector counted came through the reader */
        g_assert_cmpuint(by_reader->bytes_read, ==, m.read);
    }
    close(fd);
}

/* The seed images of the fuzz corpus (SAFEPOOL_SRCDIR from meson). */
static char *
corpus_path(const char *name)
{
    const char *src = g_getenv("SAFEPOOL_SRCDIR");

    g_assert_nonnull(src);
    return g_build_filename(src, "tests", "fuzz", "corpus", "inspect", name,
                            NULL);
}

static void
test_corpus(void)
{
    g_autofree char *dir = corpus_path(NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint n = 0;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = NULL;

        if (!g_str_has_prefix(name, "seed-"))
            continue;
        path = g_build_filename(dir, name, NULL);
        compare(path);
        n++;
    }
    g_assert_cmpuint(n, >=, 20);
}

/* A qcow2 with a backing file, read from memory: refused as raw, naming
 * the backing file; a reader error is the inspection's error. */
static void
test_hostile_and_error(void)
{
    g_autofree char *path = corpus_path("seed-qcow2-backing");
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;
    MemReader m = {0};
    SpInspReader reader = {mem_pread, &m, 0};

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    m.bytes = g_bytes_new(data, len);
    reader.size = len;
    g_assert_false(sp_inspect_check_reader(&reader, SP_FORMAT_RAW, NULL,
                                           "upload", NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_UNSAFE_IMAGE);
    g_assert_nonnull(strstr(error->message, "qcow2-backing-file"));
    g_clear_error(&error);
    m.fail = TRUE;
    g_assert_null(sp_inspect_reader(&reader, SP_FORMAT_RAW, NULL, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_bytes_unref(m.bytes);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/inspect/reader/corpus", test_corpus);
    g_test_add_func("/inspect/reader/hostile", test_hostile_and_error);
    return g_test_run();
}
