/* `safepool inspect` as a user runs it: exit codes 0/1/2, the JSON list
 * of interface.md (plus bytes_read) and the one-line human output. */
#include "inspect-test-util.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

static char *tmp;

static int
run_cli(char **out, char **err, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) sp = NULL;
    const char *bin = g_getenv("SAFEPOOL_BIN");
    va_list ap;
    const char *a;

    g_assert_nonnull(bin);
    g_ptr_array_add(argv, (gpointer)bin);
    va_start(ap, err);
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    sp = g_subprocess_newv((const char *const *)argv->pdata,
                           G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           &error);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(sp, NULL, NULL, out, err, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(sp));
    return g_subprocess_get_exit_status(sp);
}

static JsonArray *
parse_list(JsonParser *parser, const char *out)
{
    g_autoptr(GError) error = NULL;
    JsonNode *root;

    g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
    g_assert_no_error(error);
    root = json_parser_get_root(parser);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(root));
    return json_node_get_array(root);
}

static void
assert_entry(JsonObject *o, const char *path, const char *format, gint64 vsize,
             gboolean safe, const char *violations)
{
    JsonArray *v = json_object_get_array_member(o, "violations");
    g_autoptr(GString) s = g_string_new(NULL);

    g_assert_cmpstr(json_object_get_string_member(o, "path"), ==, path);
    g_assert_cmpstr(json_object_get_string_member(o, "format"), ==, format);
    g_assert_cmpint(json_object_get_int_member(o, "virtual_size"), ==, vsize);
    g_assert_cmpint(json_object_get_boolean_member(o, "safe"), ==, safe);
    g_assert_cmpint(json_object_get_int_member(o, "bytes_read"), >, 0);
    g_assert_cmpint(json_object_get_int_member(o, "bytes_read"), <=,
                    1024 * 1024);
    for (guint i = 0; i < json_array_get_length(v); i++)
        g_string_append_printf(s, "%s%s", i ? "," : "",
                               json_array_get_string_element(v, i));
    g_assert_cmpstr(s->str, ==, violations);
}

static void
test_cli(void)
{
    g_autofree char *q = g_build_filename(tmp, "a.qcow2", NULL);
    g_autofree char *r = g_build_filename(tmp, "b.raw", NULL);
    g_autofree char *bk = g_build_filename(tmp, "c.qcow2", NULL);
    g_autofree char *missing = g_build_filename(tmp, "missing", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonArray *list;
    char *out = NULL, *err = NULL;
    int rc;

    IT_RUN("qemu-img", "create", "-q", "-f", "qcow2", q, "5M");
    IT_RUN("qemu-img", "create", "-q", "-f", "raw", r, "1M");
    IT_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", r, "-F", "raw", bk);

    rc = run_cli(&out, &err, "inspect", "--json", q, r, NULL);
    g_assert_cmpint(rc, ==, 0);
    list = parse_list(parser, out);
    g_assert_cmpuint(json_array_get_length(list), ==, 2);
    assert_entry(json_array_get_object_element(list, 0), q, "qcow2", 5 << 20,
                 TRUE, "");
    assert_entry(json_array_get_object_element(list, 1), r, "raw", 1 << 20,
                 TRUE, "");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* one unsafe file makes the whole call exit 1 */
    rc = run_cli(&out, &err, "--json", "inspect", q, bk, NULL);
    g_assert_cmpint(rc, ==, 1);
    list = parse_list(parser, out);
    g_assert_cmpuint(json_array_get_length(list), ==, 2);
    assert_entry(json_array_get_object_element(list, 1), bk, "qcow2", 1 << 20,
                 FALSE, "qcow2-backing-file,qcow2-backing-format");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* --expect: another format is a violation */
    rc = run_cli(&out, &err, "inspect", "--expect", "raw", "--json", q, NULL);
    g_assert_cmpint(rc, ==, 1);
    list = parse_list(parser, out);
    assert_entry(json_array_get_object_element(list, 0), q, "qcow2", 5 << 20,
                 FALSE, "format-mismatch");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* human output: one line per file */
    rc = run_cli(&out, &err, "inspect", q, bk, NULL);
    g_assert_cmpint(rc, ==, 1);
    {
        g_autofree char *want =
            g_strdup_printf("%s: qcow2, virtual size 5242880, safe\n"
                            "%s: qcow2, virtual size 1048576, unsafe: "
                            "qcow2-backing-file, qcow2-backing-format\n",
                            q, bk);
        g_assert_cmpstr(out, ==, want);
    }
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* usage errors exit 2 */
    rc = run_cli(&out, &err, "inspect", "--expect", "floppy", q, NULL);
    g_assert_cmpint(rc, ==, 2);
    g_assert_nonnull(strstr(err, "floppy"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    rc = run_cli(&out, &err, "inspect", NULL);
    g_assert_cmpint(rc, ==, 2);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* a file that cannot be opened is named on stderr and fails the call */
    rc = run_cli(&out, &err, "inspect", "--json", missing, q, NULL);
    g_assert_cmpint(rc, !=, 0);
    g_assert_nonnull(strstr(err, missing));
    list = parse_list(parser, out);
    g_assert_cmpuint(json_array_get_length(list), ==, 2);
    g_assert_true(json_object_has_member(json_array_get_object_element(list, 0),
                                         "error"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmp = it_tmpdir();
    g_test_add_func("/inspect/cli", test_cli);
    ret = g_test_run();
    it_rm_rf(tmp);
    g_free(tmp);
    return ret;
}
