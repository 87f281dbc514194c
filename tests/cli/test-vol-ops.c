/* safepool validate / plan / vol-resize / vol-delete / vol-dumpxml and
 * clones between formats, through the built binary. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "cli-util.h"
#include "conf/sp-volume.h"

static JsonNode *
parse_json(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();

    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_node_copy(json_parser_get_root(p));
}

static gint64
vsize(CliEnv *e, const char *name)
{
    g_autofree char *p = g_build_filename(e->pool, name, NULL);
    g_autoptr(JsonObject) info = cli_qemu_img_info(p, NULL);

    g_assert_nonnull(info);
    return json_object_get_int_member(info, "virtual-size");
}

static void
test_resize(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *r = cli_write_xml(
        e, "r.xml",
        "<volume><name>r.img</name><capacity unit='M'>8</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *q = cli_write_xml(
        e, "q.xml",
        "<volume><name>q.qcow2</name><capacity unit='M'>8</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_autofree char *err = NULL;

    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, r, NULL),
        ==, 0);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, q, NULL),
        ==, 0);
    const char *names[] = {"r.img", "q.qcow2"};
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-resize", "--pool-dir",
                                e->pool, names[i], "16M", NULL),
                        ==, 0);
        g_assert_cmpint(vsize(e, names[i]), ==, 16 << 20);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(cli_run(e, NULL, &err, "vol-resize", "--pool-dir",
                                e->pool, names[i], "4M", NULL),
                        ==, 1);
        g_assert_nonnull(strstr(err, "--shrink"));
        g_assert_nonnull(strstr(err, names[i]));
        g_assert_cmpint(vsize(e, names[i]), ==, 16 << 20);
        g_assert_cmpint(cli_run(e, NULL, NULL, "vol-resize", "--pool-dir",
                                e->pool, "--shrink", names[i], "4M", NULL),
                        ==, 0);
        g_assert_cmpint(vsize(e, names[i]), ==, 4 << 20);
    }
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-resize", "--pool-dir", e->pool,
                            "r.img", "12X", NULL),
                    ==, 2);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-resize", "--pool-dir", e->pool,
                            "nope.img", "12M", NULL),
                    ==, 1);
}

static void
test_delete_backing_in_use(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *base = cli_write_xml(
        e, "base.xml",
        "<volume><name>base.img</name><capacity unit='M'>8</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *ox = g_strdup_printf(
        "<volume><name>overlay.qcow2</name><capacity unit='M'>8</capacity>"
        "<target><format "
        "type='qcow2'/></target><backingStore><path>%s/base.img</path>"
        "<format type='raw'/></backingStore></volume>",
        e->pool);
    g_autofree char *o = cli_write_xml(e, "o.xml", ox);
    g_autofree char *bp = g_build_filename(e->pool, "base.img", NULL);
    g_autofree char *op = g_build_filename(e->pool, "overlay.qcow2", NULL);
    g_autofree char *err = NULL;

    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, base, NULL),
        ==, 0);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, o, NULL),
        ==, 0);
    g_assert_cmpint(cli_run(e, NULL, &err, "vol-delete", "--pool-dir", e->pool,
                            "base.img", NULL),
                    ==, 4);
    g_assert_nonnull(strstr(err, "'base.img'"));
    g_assert_nonnull(strstr(err, "overlay.qcow2"));
    g_assert_true(g_file_test(bp, G_FILE_TEST_EXISTS));
    /* Resizing the overlay (qemu-img reads it) still works with its own
     * recorded backing file. */
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-resize", "--pool-dir", e->pool,
                            "overlay.qcow2", "16M", NULL),
                    ==, 0);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-delete", "--pool-dir", e->pool,
                            "overlay.qcow2", NULL),
                    ==, 0);
    g_assert_false(g_file_test(op, G_FILE_TEST_EXISTS));
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-delete", "--pool-dir", e->pool,
                            "base.img", NULL),
                    ==, 0);
    g_assert_false(g_file_test(bp, G_FILE_TEST_EXISTS));
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-delete", "--pool-dir", e->pool,
                            "base.img", NULL),
                    ==, 1);
}

static void
test_dumpxml_roundtrip(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    const char *xml =
        "<volume><name>d.qcow2</name><capacity unit='MiB'>64</capacity>"
        "<target><format type='qcow2'/><permissions><mode>0640</mode>"
        "<owner>0</owner><group>0</group></permissions><compat>1.1</compat>"
        "<clusterSize "
        "unit='KiB'>64</clusterSize><features><lazy_refcounts/></features>"
        "</target></volume>";
    g_autofree char *x = cli_write_xml(e, "d.xml", xml);
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) orig = sp_volume_parse(xml, strlen(xml), &error);
    g_autoptr(SpVolume) back = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 0);
    g_assert_cmpint(cli_run(e, &out, NULL, "vol-dumpxml", "--pool-dir", e->pool,
                            "d.qcow2", NULL),
                    ==, 0);
    back = sp_volume_parse(out, strlen(out), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(back->name, ==, orig->name);
    g_assert_cmpint(back->format, ==, orig->format);
    g_assert_cmpuint(back->capacity, ==, orig->capacity);
    g_assert_cmpuint(back->mode, ==, 0640);
    g_assert_cmpint(back->owner, ==, 0);
    g_assert_cmpstr(back->compat, ==, "1.1");
    g_assert_cmpuint(back->cluster_size, ==, 65536);
    g_assert_true(back->lazy_refcounts);
    /* The dumped XML is itself valid input. */
    g_autofree char *dumped = cli_write_xml(e, "dumped.xml", out);
    g_assert_cmpint(cli_run(e, NULL, NULL, "validate", dumped, NULL), ==, 0);
}

static void
test_clone_formats(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *q = cli_write_xml(
        e, "q.xml",
        "<volume><name>q.qcow2</name><capacity unit='M'>8</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_autofree char *r = cli_write_xml(
        e, "r.xml",
        "<volume><name>r.img</name><capacity unit='M'>16</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *q2 = cli_write_xml(
        e, "q2.xml",
        "<volume><name>q2.qcow2</name><capacity unit='M'>1</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_autofree char *qp = g_build_filename(e->pool, "q.qcow2", NULL);
    g_autofree char *out = NULL;

    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, q, NULL),
        ==, 0);
    /* qcow2 -> raw, grown to the requested 16M */
    g_assert_cmpint(cli_run(e, &out, NULL, "plan", "--pool-dir", e->pool,
                            "--from", "q.qcow2", r, NULL),
                    ==, 0);
    g_autoptr(JsonNode) plan = parse_json(out);
    JsonObject *op0 = json_array_get_object_element(
        json_object_get_array_member(json_node_get_object(plan), "operations"),
        0);
    JsonArray *argv = json_object_get_array_member(op0, "argv");
    g_assert_cmpstr(json_array_get_string_element(argv, 1), ==, "convert");
    g_assert_cmpstr(json_array_get_string_element(argv, 3), ==, "qcow2");
    g_assert_cmpstr(json_array_get_string_element(argv, 5), ==, "raw");
    g_assert_cmpstr(json_array_get_string_element(argv, 6), ==, qp);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool,
                            "--from", "q.qcow2", r, NULL),
                    ==, 0);
    g_autofree char *rp = g_build_filename(e->pool, "r.img", NULL);
    g_autoptr(JsonObject) ri = cli_qemu_img_info(rp, NULL);
    g_assert_cmpstr(json_object_get_string_member(ri, "format"), ==, "raw");
    g_assert_cmpint(json_object_get_int_member(ri, "virtual-size"), ==,
                    16 << 20);
    /* raw -> qcow2: keeps the source's larger size */
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool,
                            "--from", "r.img", q2, NULL),
                    ==, 0);
    g_assert_cmpint(vsize(e, "q2.qcow2"), ==, 16 << 20);
    /* an existing name is a conflict (4); a missing source is rejected (1) */
    g_assert_cmpint(cli_run(e, NULL, NULL, "plan", "--pool-dir", e->pool,
                            "--from", "r.img", q2, NULL),
                    ==, 4);
    g_autofree char *q3 = cli_write_xml(
        e, "q3.xml",
        "<volume><name>q3.qcow2</name><capacity unit='M'>1</capacity>"
        "<target><format type='qcow2'/></target></volume>");
    g_assert_cmpint(cli_run(e, NULL, NULL, "plan", "--pool-dir", e->pool,
                            "--from", "missing.img", q3, NULL),
                    ==, 1);
}

static void
make_qcow2_with(const char *path, const char *backing, const char *bfmt)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    int status = -1;

    g_unlink(path);
    for (const char *const *a =
             (const char *const[]){"/usr/bin/qemu-img", "create", "-q", "-f",
                                   "qcow2", "-u", "-b", NULL};
         *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, (gpointer)backing);
    g_ptr_array_add(argv, (gpointer) "-F");
    g_ptr_array_add(argv, (gpointer)bfmt);
    g_ptr_array_add(argv, (gpointer)path);
    g_ptr_array_add(argv, (gpointer) "1M");
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

/* Make a qcow2 at @path naming @backing (format @bfmt, or none) with qemu-img
 * itself, without opening the backing file (-u). qemu-img insists on a
 * backing format, so "none" renames its extension to one qemu ignores. */
static void
make_qcow2_naming(const char *path, const char *backing, const char *bfmt)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    const guint8 magic[4] = {0xe2, 0x79, 0x2a, 0xca};
    guint8 *ext = NULL;

    make_qcow2_with(path, backing, bfmt ? bfmt : "raw");
    if (bfmt)
        return;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    ext = memmem(data, MIN(len, 4096), magic, sizeof(magic));
    g_assert_nonnull(ext);
    ext[0] = 0x12;
    cli_write_file(path, data, (gssize)len);
}

static void
set_xattr(const char *path, const char *key, const char *value)
{
    g_assert_cmpint(setxattr(path, key, value, strlen(value), 0), ==, 0);
}

/* Anyone who can write a volume (its guest's qemu, for one) can write its
 * contents and its user.* xattrs. A raw volume rewritten as a qcow2 naming
 * a host file, with xattrs to match, must not make clone or resize run
 * qemu-img over that host file: the recorded backing store is checked and
 * inspected again, as at creation, before qemu-img reads the volume. */
static void
test_tampered_backing(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *g = cli_write_xml(
        e, "g.xml",
        "<volume><name>g.img</name><capacity unit='M'>1</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *b = cli_write_xml(
        e, "b.xml",
        "<volume><name>base.img</name><capacity unit='M'>1</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *o = cli_write_xml(
        e, "o.xml",
        "<volume><name>out.img</name><capacity unit='M'>1</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *secret = g_build_filename(e->dir, "host-secret", NULL);
    g_autofree char *evil = g_build_filename(e->dir, "evil.qcow2", NULL);
    g_autofree char *gp = g_build_filename(e->pool, "g.img", NULL);
    g_autofree char *bp = g_build_filename(e->pool, "base.img", NULL);
    g_autofree char *outp = g_build_filename(e->pool, "out.img", NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    struct {
        const char *backing;
        const char *bfmt; /* in the qcow2 header */
    } cases[] = {
        /* a host file outside the pool and the backing roots */
        {secret, "raw"},
        /* a pool volume, but with no backing format: qemu-img would probe it */
        {bp, NULL},
    };

    cli_write_file(secret, "HOST-SECRET-BYTES\n", -1);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, g, NULL),
        ==, 0);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, b, NULL),
        ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *err = NULL;
        g_autofree char *err2 = NULL;

        make_qcow2_naming(evil, cases[i].backing, cases[i].bfmt);
        g_assert_true(g_file_get_contents(evil, &data, &len, NULL));
        cli_write_file(gp, data, (gssize)len);
        g_clear_pointer(&data, g_free);
        set_xattr(gp, "user.safepool.format", "qcow2");
        set_xattr(gp, "user.safepool.backing", cases[i].backing);
        set_xattr(gp, "user.safepool.backing-format", "raw");

        g_assert_cmpint(cli_run(e, NULL, &err, "vol-create", "--pool-dir",
                                e->pool, "--from", "g.img", o, NULL),
                        ==, 1);
        g_assert_nonnull(strstr(err, "g.img"));
        g_assert_false(g_file_test(outp, G_FILE_TEST_EXISTS));
        g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
        g_assert_cmpint(cli_run(e, NULL, &err2, "vol-resize", "--pool-dir",
                                e->pool, "g.img", "2M", NULL),
                        ==, 1);
        g_assert_nonnull(strstr(err2, "g.img"));
        g_assert_false(cli_tree_contains(e->pool, "HOST-SECRET-BYTES", NULL));
    }
    g_assert_true(g_file_get_contents(secret, &data, NULL, NULL));
    g_assert_cmpstr(data, ==, "HOST-SECRET-BYTES\n");
}

static void
test_validate_json(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *good = cli_write_xml(
        e, "good.xml",
        "<volume><name>g.img</name><capacity unit='M'>1</capacity></volume>");
    g_autofree char *bad = cli_write_xml(
        e, "bad.xml",
        "<volume><name>g.img</name><capacity unit='M'>1</capacity>"
        "<allocation unit='EiB'>20</allocation></volume>");
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;

    g_assert_cmpint(cli_run(e, &out, NULL, "--json", "validate", good, NULL),
                    ==, 0);
    g_autoptr(JsonNode) n = parse_json(out);
    g_assert_true(
        json_object_get_boolean_member(json_node_get_object(n), "valid"));
    g_assert_cmpint(cli_run(e, &out2, NULL, "validate", "--json", bad, NULL),
                    ==, 1);
    g_autoptr(JsonNode) m = parse_json(out2);
    JsonObject *o = json_node_get_object(m);
    g_assert_false(json_object_get_boolean_member(o, "valid"));
    JsonObject *e0 = json_array_get_object_element(
        json_object_get_array_member(o, "errors"), 0);
    g_assert_cmpstr(json_object_get_string_member(e0, "element"), ==,
                    "allocation");
    g_assert_cmpstr(json_object_get_string_member(e0, "code"), ==, "invalid");
}

static void
test_help_and_usage(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    const char *cmds[] = {"validate",   "plan",     "vol-create",  "vol-resize",
                          "vol-delete", "vol-list", "vol-dumpxml", "inspect"};
    g_autofree char *vtpm_help = NULL;
    g_autofree char *err = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(cmds); i++) {
        g_autofree char *out = NULL;
        g_autofree char *usage =
            g_strdup_printf("Usage:\n  safepool %s [OPTION", cmds[i]);
        g_assert_cmpint(cli_run(e, &out, NULL, cmds[i], "--help", NULL), ==, 0);
        g_assert_nonnull(strstr(out, usage));
    }
    g_assert_cmpint(cli_run(e, &vtpm_help, NULL, "vtpm", "--help", NULL), ==,
                    0);
    g_assert_nonnull(strstr(vtpm_help, "Subcommands:"));
    g_assert_nonnull(strstr(vtpm_help, "restore"));
    g_assert_cmpint(
        cli_run(e, NULL, &err, "vol-delete", "--pool-dir", e->pool, NULL), ==,
        2);
    g_assert_nonnull(strstr(err, "vol-delete: expected NAME"));
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-list", NULL), ==, 2);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, NULL), ==,
        2);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-delete", "--pool-dir", e->pool,
                            "--bogus", "x", NULL),
                    ==, 2);
}

/* vol-upload/vol-download through a file, '-' on stdin/stdout, and '-'
 * on a closed stdin: a one-line error, exit non-zero, volume unchanged
 * (it once exited 0 with no message). */
static void
test_upload_stdio(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *x =
        cli_write_xml(e, "u.xml",
                      "<volume><name>u.img</name><capacity>65536</capacity>"
                      "<target><format type='raw'/></target></volume>");
    g_autofree char *data = g_build_filename(e->dir, "data", NULL);
    g_autofree char *vol = g_build_filename(e->pool, "u.img", NULL);
    g_autofree char *back = g_build_filename(e->dir, "back", NULL);
    g_autofree char *got = NULL, *err = NULL;
    gsize len = 0;
    guint8 buf[65536];
    int status = -1;
    const char *bin = g_getenv("SAFEPOOL_BIN");
    /* $0 safepool, $1 config, $2 pool, $3 data, $4 back */
    const char *argv[] = {
        "/bin/sh",
        "-c",
        "\"$0\" --config \"$1\" vol-upload --pool-dir \"$2\" u.img - "
        "<\"$3\" && \"$0\" --config \"$1\" vol-download --pool-dir \"$2\" "
        "u.img - >\"$4\" && exec \"$0\" --config \"$1\" vol-upload "
        "--pool-dir \"$2\" u.img - <&-",
        bin,
        e->conf,
        e->pool,
        data,
        back,
        NULL};

    g_assert_nonnull(bin);
    for (gsize i = 0; i < sizeof buf; i++)
        buf[i] = (guint8)(i * 7 + 1);
    cli_write_file(data, (const char *)buf, sizeof buf);
    g_assert_cmpint(
        cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, x, NULL),
        ==, 0);
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                               NULL, NULL, &err, &status, NULL));
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(err, "upload source '-'"));
    g_assert_cmpuint(cli_count_tmp(e->pool), ==, 0);
    g_assert_true(g_file_get_contents(vol, &got, &len, NULL));
    g_assert_cmpmem(got, len, buf, sizeof buf);
    g_clear_pointer(&got, g_free);
    g_assert_true(g_file_get_contents(back, &got, &len, NULL));
    g_assert_cmpmem(got, len, buf, sizeof buf);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vol-ops/resize", test_resize);
    g_test_add_func("/vol-ops/upload-stdio", test_upload_stdio);
    g_test_add_func("/vol-ops/delete-backing-in-use",
                    test_delete_backing_in_use);
    g_test_add_func("/vol-ops/dumpxml-roundtrip", test_dumpxml_roundtrip);
    g_test_add_func("/vol-ops/clone-formats", test_clone_formats);
    g_test_add_func("/vol-ops/tampered-backing", test_tampered_backing);
    g_test_add_func("/vol-ops/validate-json", test_validate_json);
    g_test_add_func("/vol-ops/help-and-usage", test_help_and_usage);
    return g_test_run();
}
