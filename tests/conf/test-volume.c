/* Volume XML: every file of tests/data/vol-valid parses, passes the test
 * policy and round-trips; every file of tests/data/vol-invalid is refused
 * naming the element listed in vol-invalid/EXPECTED; libvirt's unit table;
 * the checks that need no file. */
#include <string.h>

#include "conf/sp-volume-read.h"
#include "conf/sp-volume.h"
#include "util/sp-error.h"

#define TEST_POOL "/var/lib/safepool-test-pool"

static SpPolicy *
test_policy(void)
{
    g_autofree char *path = g_build_filename(
        g_getenv("SAFEPOOL_SRCDIR"), "tests", "data", "policy-test.conf", NULL);
    g_autoptr(GError) error = NULL;
    SpPolicy *p = sp_policy_load(path, &error);

    g_assert_no_error(error);
    return p;
}

static GPtrArray *
list_xml(const char *sub)
{
    g_autofree char *dir = g_build_filename(g_getenv("SAFEPOOL_SRCDIR"),
                                            "tests", "data", sub, NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const char *n;

    g_assert_nonnull(d);
    while ((n = g_dir_read_name(d))) {
        if (g_str_has_suffix(n, ".xml"))
            g_ptr_array_add(out, g_build_filename(dir, n, NULL));
    }
    return out;
}

static void
test_valid_files(void)
{
    g_autoptr(SpPolicy) policy = test_policy();
    g_autoptr(GPtrArray) files = list_xml("vol-valid");

    g_assert_cmpuint(files->len, >=, 24);
    for (guint i = 0; i < files->len; i++) {
        const char *f = files->pdata[i];
        g_autoptr(GError) error = NULL;
        g_autoptr(SpVolume) v = sp_volume_parse_file(f, &error);
        g_autoptr(SpVolume) again = NULL;
        g_autoptr(GPtrArray) problems =
            g_ptr_array_new_with_free_func((GDestroyNotify)sp_problem_free);
        g_autofree char *xml = NULL;
        g_autofree char *xml2 = NULL;

        if (!v)
            g_error("%s: %s", f, error->message);
        if (!sp_volume_check_policy(v, policy, TEST_POOL, problems, &error))
            g_error("%s: %s", f, error->message);
        g_assert_cmpuint(problems->len, ==, 0);

        xml = sp_volume_to_xml(v, TEST_POOL "/vol");
        again = sp_volume_parse(xml, strlen(xml), &error);
        if (!again)
            g_error("%s: re-parse of\n%s\nfailed: %s", f, xml, error->message);
        if (!sp_volume_equal(v, again))
            g_error("%s: round trip changed the volume:\n%s", f, xml);
        g_assert_true(
            sp_volume_check_policy(again, policy, TEST_POOL, NULL, &error));
        /* Serialising is stable: a second round gives the same text. */
        xml2 = sp_volume_to_xml(again, TEST_POOL "/vol");
        g_assert_cmpstr(xml, ==, xml2);
        {
            g_autoptr(SpVolume) copy = sp_volume_copy(v);
            g_assert_true(sp_volume_equal(v, copy));
        }
    }
}

static SpVolume *
parse_data(const char *sub, const char *name)
{
    g_autofree char *path = g_build_filename(g_getenv("SAFEPOOL_SRCDIR"),
                                             "tests", "data", sub, name, NULL);
    g_autoptr(GError) error = NULL;
    SpVolume *v = sp_volume_parse_file(path, &error);

    g_assert_no_error(error);
    return v;
}

/* The parsed values of some valid files, field by field. */
static void
test_valid_values(void)
{
    g_autoptr(SpVolume) luks = parse_data("vol-valid", "luks-raw-uuid.xml");
    g_autoptr(SpVolume) l2 = parse_data("vol-valid", "qcow2-extended-l2.xml");
    g_autoptr(SpVolume) back =
        parse_data("vol-valid", "qcow2-backing-in-root.xml");
    g_autoptr(SpVolume) perms = parse_data("vol-valid", "raw-permissions.xml");
    g_autoptr(SpVolume) dump = parse_data("vol-valid", "libvirt-dumpxml.xml");

    g_assert_cmpstr(luks->name, ==, "luks-raw.img");
    g_assert_cmpuint(luks->capacity, ==, G_GUINT64_CONSTANT(2) << 30);
    g_assert_true(luks->encryption.enabled);
    g_assert_cmpstr(luks->encryption.format, ==, "luks");
    g_assert_cmpuint(luks->encryption.n_secrets, ==, 1);
    g_assert_cmpstr(luks->encryption.secret_uuid, ==,
                    "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f");
    g_assert_null(luks->encryption.secret_usage);
    g_assert_cmpstr(luks->encryption.cipher_name, ==, "aes");
    g_assert_cmpuint(luks->encryption.cipher_size, ==, 256);
    g_assert_cmpstr(luks->encryption.cipher_mode, ==, "xts");
    g_assert_cmpstr(luks->encryption.cipher_hash, ==, "sha256");
    g_assert_cmpstr(luks->encryption.ivgen_name, ==, "plain64");
    g_assert_cmpstr(luks->encryption.ivgen_hash, ==, "sha256");
    g_assert_cmpint(sp_volume_image_format(luks), ==, SP_FORMAT_LUKS);

    g_assert_cmpint(l2->format, ==, SP_FORMAT_QCOW2);
    g_assert_cmpint(sp_volume_image_format(l2), ==, SP_FORMAT_QCOW2);
    g_assert_cmpstr(l2->compat, ==, "1.1");
    g_assert_true(l2->extended_l2);
    g_assert_true(l2->lazy_refcounts);
    g_assert_cmpuint(l2->cluster_size, ==, 128 * 1024);

    g_assert_cmpstr(back->backing_path, ==,
                    "/var/lib/safepool-test-base/debian/12.qcow2");
    g_assert_cmpint(back->backing_format, ==, SP_FORMAT_QCOW2);
    /* backingStore/permissions belong to the backing file: not ours. */
    g_assert_false(back->has_mode);
    g_assert_cmpint(back->owner, ==, -1);

    g_assert_true(perms->has_mode);
    g_assert_cmpuint(perms->mode, ==, 0640);
    g_assert_cmpint(perms->owner, ==, 107);
    g_assert_cmpint(perms->group, ==, 0);
    g_assert_cmpstr(perms->label, ==, "system_u:object_r:virt_image_t:s0");
    g_assert_true(perms->has_allocation);
    g_assert_cmpuint(perms->allocation, ==, G_GUINT64_CONSTANT(1) << 30);
    g_assert_cmpuint(perms->capacity, ==, G_GUINT64_CONSTANT(10) << 30);

    g_assert_cmpuint(dump->capacity, ==, 21474836480);
    g_assert_cmpuint(dump->allocation, ==, 200704);
    g_assert_cmpuint(dump->cluster_size, ==, 65536);
    g_assert_false(dump->lazy_refcounts);
}

static void
test_invalid_files(void)
{
    g_autoptr(SpPolicy) policy = test_policy();
    g_autofree char *dir = g_build_filename(
        g_getenv("SAFEPOOL_SRCDIR"), "tests", "data", "vol-invalid", NULL);
    g_autofree char *expected_path = g_build_filename(dir, "EXPECTED", NULL);
    g_autofree char *expected = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) files = list_xml("vol-invalid");
    g_autoptr(GHashTable) listed =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint checked = 0;

    g_assert_true(g_file_get_contents(expected_path, &expected, NULL, NULL));
    lines = g_strsplit(expected, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = NULL;
        g_autofree char *path = NULL;
        g_autofree char *needle = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(SpVolume) v = NULL;

        if (!*lines[i] || lines[i][0] == '#')
            continue;
        f = g_strsplit(lines[i], " ", 2);
        g_assert_nonnull(f[1]);
        path = g_build_filename(dir, f[0], NULL);
        g_hash_table_add(listed, g_strdup(path));
        v = sp_volume_parse_file(path, &error);
        if (v && sp_volume_check_policy(v, policy, TEST_POOL, NULL, &error))
            g_error("%s: accepted", f[0]);
        g_assert_nonnull(error);
        g_assert_true(error->domain == SP_ERROR);
        if (error->code != SP_ERROR_XML && error->code != SP_ERROR_INVALID)
            g_error("%s: code %d: %s", f[0], error->code, error->message);
        needle = g_strdup_printf("volume XML element '%s", f[1]);
        if (!strstr(error->message, needle))
            g_error("%s: '%s' not in '%s'", f[0], needle, error->message);
        g_assert_null(strchr(error->message, '\n'));
        checked++;
    }
    g_assert_cmpuint(checked, >=, 44);
    /* Every file in the directory has an expectation. */
    for (guint i = 0; i < files->len; i++) {
        if (!g_hash_table_contains(listed, files->pdata[i]))
            g_error("%s is not listed in EXPECTED", (char *)files->pdata[i]);
    }
    g_assert_cmpuint(files->len, ==, checked);
}

static void
test_units(void)
{
    static const struct {
        const char *unit;
        guint64 scale;
    } units[] = {
        {NULL, 1},
        {"", 1},
        {"b", 1},
        {"B", 1},
        {"byte", 1},
        {"bytes", 1},
        {"BYTES", 1},
        {"k", 1024},
        {"K", 1024},
        {"KiB", 1024},
        {"kib", 1024},
        {"KB", 1000},
        {"kb", 1000},
        {"M", 1u << 20},
        {"MiB", 1u << 20},
        {"MB", 1000000},
        {"G", 1u << 30},
        {"GiB", 1u << 30},
        {"GB", 1000000000},
        {"T", G_GUINT64_CONSTANT(1) << 40},
        {"TiB", G_GUINT64_CONSTANT(1) << 40},
        {"TB", G_GUINT64_CONSTANT(1000000000000)},
        {"P", G_GUINT64_CONSTANT(1) << 50},
        {"PiB", G_GUINT64_CONSTANT(1) << 50},
        {"PB", G_GUINT64_CONSTANT(1000000000000000)},
        {"E", G_GUINT64_CONSTANT(1) << 60},
        {"EiB", G_GUINT64_CONSTANT(1) << 60},
        {"EB", G_GUINT64_CONSTANT(1000000000000000000)},
    };
    static const char *const bad_units[] = {"X",   "KiBB", "Ki",  "KBB", "kibi",
                                            "bit", "Z",    "ZiB", "iB",  " K"};

    for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
        g_autoptr(GError) error = NULL;
        guint64 s = 0;
        guint64 v = 0;
        g_assert_true(sp_volume_unit_scale(units[i].unit, &s));
        g_assert_cmpuint(s, ==, units[i].scale);
        g_assert_true(sp_volume_parse_scaled("capacity", " 3 ", units[i].unit,
                                             &v, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(v, ==, 3 * units[i].scale);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad_units); i++) {
        g_autoptr(GError) error = NULL;
        guint64 s = 0;
        guint64 v = 0;
        g_assert_false(sp_volume_unit_scale(bad_units[i], &s));
        g_assert_false(
            sp_volume_parse_scaled("capacity", "1", bad_units[i], &v, &error));
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "element 'capacity'"));
    }
}

static void
test_scaled_limits(void)
{
    static const struct {
        const char *text;
        const char *unit;
        gboolean ok;
        guint64 v;
    } cases[] = {
        {"18446744073709551615", "bytes", TRUE, G_MAXUINT64},
        {"18446744073709551616", "bytes", FALSE, 0},
        {"99999999999999999999999", NULL, FALSE, 0},
        {"15", "EiB", TRUE, G_GUINT64_CONSTANT(15) << 60},
        {"16", "EiB", FALSE, 0},
        {"18446744073709551", "KB", TRUE,
         G_GUINT64_CONSTANT(18446744073709551000)},
        {"18446744073709552", "KB", FALSE, 0},
        {"18014398509481983", "KiB", TRUE,
         G_GUINT64_CONSTANT(18014398509481983) * 1024},
        {"18014398509481984", "KiB", FALSE, 0},
        {"-1", NULL, FALSE, 0},
        {"-0", NULL, FALSE, 0},
        {"+1", NULL, FALSE, 0},
        {"1e3", NULL, FALSE, 0},
        {"", NULL, FALSE, 0},
        {"1 2", NULL, FALSE, 0},
        {"0", "G", TRUE, 0},
        {"\n 42\t", "k", TRUE, 42 * 1024},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        guint64 v = 77;
        gboolean ok = sp_volume_parse_scaled("allocation", cases[i].text,
                                             cases[i].unit, &v, &error);
        if (ok != cases[i].ok)
            g_error("'%s' %s: expected %s", cases[i].text,
                    cases[i].unit ? cases[i].unit : "",
                    cases[i].ok ? "ok" : "error");
        if (ok) {
            g_assert_cmpuint(v, ==, cases[i].v);
        } else {
            g_assert_cmpuint(v, ==, 77);
            g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
            g_assert_nonnull(strstr(error->message, "element 'allocation'"));
        }
    }
}

/* The shipped samples (xml/vol-*.xml) pass the default policy. */
static void
test_samples(void)
{
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
    g_autofree char *dir =
        g_build_filename(g_getenv("SAFEPOOL_SRCDIR"), "xml", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    guint count = 0;

    g_assert_nonnull(d);
    while ((n = g_dir_read_name(d))) {
        g_autofree char *path = NULL;
        g_autoptr(SpVolume) v = NULL;
        g_autoptr(GError) error = NULL;

        if (!g_str_has_prefix(n, "vol-") || !g_str_has_suffix(n, ".xml"))
            continue;
        path = g_build_filename(dir, n, NULL);
        v = sp_volume_parse_file(path, &error);
        if (!v || !sp_volume_check_policy(v, policy, "/var/lib/libvirt/images",
                                          NULL, &error))
            g_error("%s: %s", n, error->message);
        count++;
    }
    g_assert_cmpuint(count, >=, 5);
}

/* Structural breakage the schema alone must refuse (not only the walk). */
static const char *const schema_refuses[] = {
    "capacity-negative.xml",
    "capacity-not-number.xml",
    "capacity-overflow-2p64.xml",
    "capacity-hex.xml",
    "capacity-fraction.xml",
    "capacity-empty.xml",
    "capacity-twice.xml",
    "unit-unknown.xml",
    "unit-kibb.xml",
    "unit-words.xml",
    "allocation-negative.xml",
    "unknown-element.xml",
    "unknown-element-target.xml",
    "unknown-attribute.xml",
    "unknown-volume-type.xml",
    "text-in-target.xml",
    "format-foo.xml",
    "format-missing-type.xml",
    "mode-not-octal.xml",
    "owner-name.xml",
    "name-missing.xml",
    "backing-no-path.xml",
    "encryption-secret-type-volume.xml",
    "encryption-secret-uuid-and-usage.xml",
    "encryption-secret-bad-uuid.xml",
    "compat-not-version.xml",
    "features-unknown.xml",
    "xinclude.xml",
    "root-not-volume.xml",
    "root-namespaced.xml",
    "backing-format-unknown.xml",
};

static xmlDoc *
read_doc(const char *path)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    xmlDoc *doc;

    g_assert_true(g_file_get_contents(path, &text, &len, NULL));
    doc = sp_xml_read_safe("volume", text, len, SP_VOLUME_XML_MAX, &error);
    g_assert_no_error(error);
    return doc;
}

/* schemas/storagevol.rng by itself: accepts every valid file, refuses the
 * structural breakage; cross-checked with xmllint when it is installed. */
static void
test_schema_alone(void)
{
    g_autoptr(GPtrArray) valid = list_xml("vol-valid");
    g_autofree char *inv = g_build_filename(
        g_getenv("SAFEPOOL_SRCDIR"), "tests", "data", "vol-invalid", NULL);
    g_autofree char *xmllint = g_find_program_in_path("xmllint");
    const char *schema = sp_volume_schema_path();

    for (guint i = 0; i < valid->len + G_N_ELEMENTS(schema_refuses); i++) {
        gboolean expect_ok = i < valid->len;
        g_autofree char *path =
            expect_ok
                ? g_strdup(valid->pdata[i])
                : g_build_filename(inv, schema_refuses[i - valid->len], NULL);
        xmlDoc *doc = read_doc(path);
        g_autoptr(GError) error = NULL;
        gboolean ok = sp_volume_validate_doc(doc, &error);

        xmlFreeDoc(doc);
        if (ok != expect_ok)
            g_error("%s: schema %s it", path, ok ? "accepted" : "refused");
        if (!ok)
            g_assert_error(error, SP_ERROR, SP_ERROR_XML);
        if (xmllint) {
            const char *argv[] = {xmllint, "--noout", "--nonet", "--relaxng",
                                  schema,  path,      NULL};
            int status = -1;
            g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                                       G_SPAWN_STDOUT_TO_DEV_NULL |
                                           G_SPAWN_STDERR_TO_DEV_NULL,
                                       NULL, NULL, NULL, NULL, &status, NULL));
            if (g_spawn_check_wait_status(status, NULL) != expect_ok)
                g_error("%s: xmllint disagrees", path);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/volume/valid-files", test_valid_files);
    g_test_add_func("/volume/valid-values", test_valid_values);
    g_test_add_func("/volume/invalid-files", test_invalid_files);
    g_test_add_func("/volume/units", test_units);
    g_test_add_func("/volume/scaled-limits", test_scaled_limits);
    g_test_add_func("/volume/samples", test_samples);
    g_test_add_func("/volume/schema-alone", test_schema_alone);
    return g_test_run();
}
