/* Helpers of the inspector tests (see inspect-test-util.h). */
#include "inspect-test-util.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>

#include "util/sp-error.h" /* g_autofd */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

SpPolicy *
it_policy(void)
{
    SpPolicy *p = sp_policy_new_default();

    p->max_capacity = 1ull << 40;
    p->allow_extended_l2 = TRUE;
    p->luks_versions = (1u << 1) | (1u << 2);
    p->max_image_read = 1024 * 1024;
    return p;
}

static GSubprocess *
spawn(const char *const *argv, GSubprocessFlags extra, GError **error)
{
    return g_subprocess_newv(argv,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                 G_SUBPROCESS_FLAGS_STDOUT_PIPE | extra,
                             error);
}

static gboolean
run_once(const char *input, const char *const *argv, char **err_out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p =
        spawn(argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
    g_autofree char *out = NULL;

    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, input, NULL, &out, err_out, &error);
    g_assert_no_error(error);
    return g_subprocess_get_if_exited(p) &&
           g_subprocess_get_exit_status(p) == 0;
}

void
it_run_retry(const char *const *argv)
{
    for (int i = 0; i < 20; i++) {
        g_autofree char *err = NULL;

        if (run_once(NULL, argv, &err))
            return;
        /* qemu 7.2's PBKDF calibration measures 2^15 sha256 iterations on
         * the thread CPU clock; with SHA-NI that often reads 0 ms (up to
         * half the attempts here) and it gives up. A failed attempt costs
         * milliseconds; nothing else is retried. */
        if (!strstr(err, "Unable to get accurate CPU usage"))
            g_error("'%s' failed: %s", argv[0], err);
    }
    g_error("'%s' kept failing", argv[0]);
}

void
it_run(const char *input, const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p =
        spawn(argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, input, NULL, &out, &err, &error);
    g_assert_no_error(error);
    if (!g_subprocess_get_if_exited(p) ||
        g_subprocess_get_exit_status(p) != 0) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
        g_error("'%s' failed: %s", cmd, err);
    }
}

gboolean
it_try(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p =
        spawn(argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);

    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, NULL, NULL, NULL, NULL, &error);
    g_assert_no_error(error);
    return g_subprocess_get_if_exited(p) &&
           g_subprocess_get_exit_status(p) == 0;
}

gint64
it_qemu_vsize(const char *path, const char *fmt)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p = NULL;
    g_autofree char *out = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(JsonNode) spec = NULL;
    g_autofree char *spec_str = NULL, *filename = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();

    /* json: spec so that a hostile image's backing file is never opened */
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, fmt);
    if (g_str_equal(fmt, "qcow2")) {
        json_builder_set_member_name(b, "backing");
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "file");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, "file");
    json_builder_set_member_name(b, "filename");
    json_builder_add_string_value(b, path);
    json_builder_end_object(b);
    json_builder_end_object(b);
    spec = json_builder_get_root(b);
    spec_str = json_to_string(spec, FALSE);
    filename = g_strconcat("json:", spec_str, NULL);
    {
        const char *argv[] = {"qemu-img", "info", "--output=json", filename,
                              NULL};
        p = spawn(argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    }
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error);
    g_assert_no_error(error);
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0)
        return -1;
    g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
    g_assert_no_error(error);
    return json_object_get_int_member(
        json_node_get_object(json_parser_get_root(parser)), "virtual-size");
}

char *
it_qemu_backing(const char *path, const char *fmt)
{
    const char *argv[] = {"qemu-img", "info", "--output=json", "-f", fmt,
                          path,       NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p =
        spawn(argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *out = NULL;
    JsonObject *o;

    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error);
    g_assert_no_error(error);
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0)
        return NULL;
    g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
    o = json_node_get_object(json_parser_get_root(parser));
    if (!json_object_has_member(o, "backing-filename"))
        return NULL;
    return g_strdup(json_object_get_string_member(o, "backing-filename"));
}

char *
it_qemu_probe(const char *path)
{
    const char *argv[] = {"qemu-img", "info", "--output=json", path, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p =
        spawn(argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *out = NULL;

    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error);
    g_assert_no_error(error);
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0)
        return NULL;
    g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
    return g_strdup(json_object_get_string_member(
        json_node_get_object(json_parser_get_root(parser)), "format"));
}

SpInspectResult *
it_inspect(const char *path, SpFormat expected, const SpPolicy *policy)
{
    g_autoptr(SpPolicy) own = policy ? NULL : it_policy();
    g_autoptr(GError) error = NULL;
    g_autofd int fd = open(path, O_RDONLY | O_CLOEXEC);
    SpInspectResult *r;

    g_assert_cmpint(fd, >=, 0);
    r = sp_inspect_fd(fd, expected, policy ? policy : own, &error);
    g_assert_no_error(error);
    g_assert_nonnull(r);
    g_assert_cmpuint(r->bytes_read, <=, 1024 * 1024);
    return r;
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
it_assert_violations(const SpInspectResult *r, const char *path,
                     const char *const *names)
{
    g_autoptr(GPtrArray) want = g_ptr_array_new();
    g_autoptr(GPtrArray) got = g_ptr_array_new();
    g_autofree char *want_s = NULL, *got_s = NULL;

    for (guint i = 0; names[i]; i++)
        g_ptr_array_add(want, (gpointer)names[i]);
    for (guint i = 0; i < r->violations->len; i++)
        g_ptr_array_add(got, g_ptr_array_index(r->violations, i));
    g_ptr_array_sort(want, cmp_str);
    g_ptr_array_sort(got, cmp_str);
    g_ptr_array_add(want, NULL);
    g_ptr_array_add(got, NULL);
    want_s = g_strjoinv(",", (char **)want->pdata);
    got_s = g_strjoinv(",", (char **)got->pdata);
    if (!g_str_equal(want_s, got_s))
        g_error("%s: violations '%s', expected '%s'", path, got_s, want_s);
    g_assert_cmpint(r->safe, ==, names[0] == NULL);
}

void
it_patch(const char *path, guint64 off, const void *data, gsize len)
{
    g_autofd int fd = open(path, O_WRONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, data, len, (off_t)off), ==, (gssize)len);
}

void
it_patch_be32(const char *path, guint64 off, guint32 v)
{
    guint32 be = GUINT32_TO_BE(v);
    it_patch(path, off, &be, 4);
}

void
it_patch_be64(const char *path, guint64 off, guint64 v)
{
    guint64 be = GUINT64_TO_BE(v);
    it_patch(path, off, &be, 8);
}

void
it_write(const char *path, const void *data, gsize len)
{
    g_autoptr(GError) error = NULL;

    g_file_set_contents(path, data, (gssize)len, &error);
    g_assert_no_error(error);
}

void
it_truncate(const char *path, guint64 size)
{
    g_autofd int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
}

guint64
it_file_size(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return (guint64)st.st_size;
}

char *
it_tmpdir(void)
{
    g_autoptr(GError) error = NULL;
    char *d = g_dir_make_tmp("sp-inspect-XXXXXX", &error);

    g_assert_no_error(error);
    return d;
}

void
it_rm_rf(const char *dir)
{
    IT_RUN("rm", "-rf", "--one-file-system", dir);
}
