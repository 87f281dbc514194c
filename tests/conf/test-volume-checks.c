/* Volume checks that need no data file: all problems reported at once, the
 * input size cap, entity expansion refused quickly, name rule, default
 * policy formats, backing containment without a pool, schema path, XML
 * escaping in the round trip. */
#include <string.h>

#include "conf/sp-volume.h"
#include "util/sp-error.h"

static SpVolume *
parse_ok(const char *xml)
{
    g_autoptr(GError) error = NULL;
    SpVolume *v = sp_volume_parse(xml, strlen(xml), &error);

    g_assert_no_error(error);
    return v;
}

static void
test_all_problems(void)
{
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
    g_autoptr(SpVolume) v = parse_ok(
        "<volume><name>a,b</name><capacity unit='T'>17</capacity>"
        "<allocation unit='T'>18</allocation>"
        "<target><format type='raw'/><permissions><mode>4777</mode>"
        "<owner>4242</owner></permissions>"
        "<encryption format='qcow'/></target>"
        "<backingStore><path>/etc/shadow</path></backingStore></volume>");
    g_autoptr(GPtrArray) problems =
        g_ptr_array_new_with_free_func((GDestroyNotify)sp_problem_free);
    g_autoptr(GError) error = NULL;
    static const char *const want[] = {
        "name",
        "capacity",
        "target/permissions/mode",
        "target/permissions/owner",
        "target/encryption",
        "target/encryption/secret",
        "backingStore/path",
        "backingStore/format",
    };

    g_assert_false(
        sp_volume_check_policy(v, policy, "/srv/pool", problems, &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    /* The error is the first problem. */
    g_assert_cmpstr(error->message, ==,
                    ((SpProblem *)problems->pdata[0])->message);
    g_assert_cmpstr(((SpProblem *)problems->pdata[0])->element, ==, "name");
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        gboolean found = FALSE;
        for (guint j = 0; j < problems->len; j++) {
            SpProblem *p = problems->pdata[j];
            g_assert_cmpint(p->code, ==, SP_ERROR_INVALID);
            if (g_str_equal(p->element, want[i])) {
                g_autofree char *needle =
                    g_strdup_printf("element '%s'", want[i]);
                g_assert_nonnull(strstr(p->message, needle));
                found = TRUE;
            }
        }
        if (!found)
            g_error("no problem for '%s'", want[i]);
    }
}

static void
test_size_cap(void)
{
    GString *s = g_string_new("<volume><name>big</name><capacity>1</capacity>");
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) v = NULL;
    g_autofree char *xml = NULL;
    gsize len;

    while (s->len <= 1024 * 1024)
        g_string_append(s, "<!-- padding padding padding padding -->");
    g_string_append(s, "</volume>");
    len = s->len;
    xml = g_string_free(s, FALSE);
    v = sp_volume_parse(xml, len, &error);
    g_assert_null(v);
    g_assert_error(error, SP_ERROR, SP_ERROR_XML);
    g_assert_nonnull(strstr(error->message, "larger than"));
}

/* A billion-laughs document is refused before any entity is declared, so
 * quickly and without memory growth. */
static void
test_entities_refused_fast(void)
{
    GString *s = g_string_new("<!DOCTYPE volume [<!ENTITY a \"aaaaaaaaaa\">");
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) v = NULL;
    g_autofree char *xml = NULL;
    gint64 t0;

    for (int i = 1; i < 20; i++) {
        g_string_append_printf(s, "<!ENTITY a%d \"", i);
        for (int k = 0; k < 10; k++)
            if (i == 1)
                g_string_append(s, "&a;");
            else
                g_string_append_printf(s, "&a%d;", i - 1);
        g_string_append(s, "\">");
    }
    g_string_append(s, "]><volume><name>&a19;</name><capacity>1</capacity>"
                       "</volume>");
    xml = g_string_free(s, FALSE);
    t0 = g_get_monotonic_time();
    v = sp_volume_parse(xml, strlen(xml), &error);
    g_assert_null(v);
    g_assert_error(error, SP_ERROR, SP_ERROR_XML);
    g_assert_nonnull(strstr(error->message, "'!DOCTYPE'"));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
}

static void
test_check_name(void)
{
    static const char *const good[] = {
        "a",    "disk.qcow2",     "a b",      "é.img",
        "x..y", "name-with-dash", "trailing."};
    static const struct {
        const char *name;
        const char *why;
    } bad[] = {
        {"", "empty"},
        {".", "'.'"},
        {"..", "'..'"},
        {".x", "'.'"},
        {"-x", "'-'"},
        {"a/b", "'/'"},
        {"a,b", "','"},
        {"a:b", "':'"},
        {"a\nb", "control"},
        {"a\tb", "control"},
        {"a\x7f", "control"},
        {"\xff\xfe", "UTF-8"},
        {"a\xc2\x85"
         "b",
         "control"},
    };
    g_autofree char *long_name = g_strnfill(256, 'x');
    g_autofree char *max_name = g_strnfill(255, 'x');
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        if (!sp_volume_check_name(good[i], &error))
            g_error("'%s': %s", good[i], error->message);
    }
    g_assert_true(sp_volume_check_name(max_name, NULL));
    g_assert_false(sp_volume_check_name(long_name, &error));
    g_assert_nonnull(strstr(error->message, "255"));
    g_clear_error(&error);
    g_assert_false(sp_volume_check_name(NULL, NULL));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (sp_volume_check_name(bad[i].name, &error))
            g_error("name %u accepted", i);
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(error->message, "volume name '"));
        g_assert_nonnull(strstr(error->message, bad[i].why));
        g_assert_null(strchr(error->message, '\n'));
        g_clear_error(&error);
    }
}

static void
test_default_policy_formats(void)
{
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
    static const char *const refused[] = {"qed", "vmdk", "vpc", "vdi", "iso"};

    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<volume><name>v</name><capacity>1</capacity><target>"
            "<format type='%s'/></target></volume>",
            refused[i]);
        g_autoptr(SpVolume) v = parse_ok(xml);
        g_autoptr(GError) error = NULL;
        g_assert_false(sp_volume_check_policy(v, policy, NULL, NULL, &error));
        g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "element 'target/format'"));
    }
}

/* Without a pool path only backing_roots count; the root itself is not a
 * file below it. */
static void
test_backing_without_pool(void)
{
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
#define BACKING_TMPL                                                           \
    "<volume><name>o</name><capacity>1</capacity><target>"                     \
    "<format type='qcow2'/></target><backingStore><path>%s</path>"             \
    "<format type='qcow2'/></backingStore></volume>"
    static const struct {
        const char *path;
        const char *pool;
        gboolean ok;
    } cases[] = {
        {"/srv/pool/base", NULL, FALSE},
        {"/srv/pool/base", "/srv/pool", TRUE},
        {"/srv/pool/base", "/srv/pool/", TRUE},
        {"/srv/pool//sub/./base", "/srv/pool", TRUE},
        {"/srv/pool", "/srv/pool", FALSE},
        {"/srv/poolx/base", "/srv/pool", FALSE},
        {"/srv/images/base", NULL, TRUE},
        {"/srv/images/a/b/c", "/srv/pool", TRUE},
        {"/srv/images", NULL, FALSE},
        {"/srv/images/../pool/base", "/srv/pool", FALSE},
    };

    g_strfreev(policy->backing_roots);
    policy->backing_roots = g_strsplit("/srv/images", ";", -1);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(BACKING_TMPL, cases[i].path);
        g_autoptr(SpVolume) v = parse_ok(xml);
        g_autoptr(GError) error = NULL;
        gboolean ok =
            sp_volume_check_policy(v, policy, cases[i].pool, NULL, &error);
        if (ok != cases[i].ok)
            g_error("%s in pool %s: expected %s", cases[i].path,
                    cases[i].pool ? cases[i].pool : "(none)",
                    cases[i].ok ? "accepted" : "refused");
        if (!ok)
            g_assert_nonnull(
                strstr(error->message, "element 'backingStore/path'"));
    }
}

static void
test_extended_l2_policy(void)
{
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
    g_autoptr(SpVolume) v = parse_ok(
        "<volume><name>l2</name><capacity>1048576</capacity><target>"
        "<format type='qcow2'/><features><extended_l2/></features></target>"
        "</volume>");
    g_autoptr(GError) error = NULL;

    g_assert_true(sp_volume_check_policy(v, policy, NULL, NULL, &error));
    policy->allow_extended_l2 = FALSE;
    g_assert_false(sp_volume_check_policy(v, policy, NULL, NULL, &error));
    g_assert_nonnull(
        strstr(error->message, "element 'target/features/extended_l2'"));
}

static void
test_escaping_round_trip(void)
{
    g_autoptr(SpVolume) v =
        parse_ok("<volume><name>a&amp;b &lt;c&gt; \"d\" 'e'</name>"
                 "<capacity>1</capacity><target><format type='qcow2'/>"
                 "<permissions><label>system_u:object_r:virt_image_t:s0</label>"
                 "</permissions></target><backingStore>"
                 "<path>/p/x&apos;y&amp;z,w</path><format type='raw'/>"
                 "</backingStore></volume>");
    g_autofree char *xml = sp_volume_to_xml(v, "/pool/a&b <c>");
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) again = sp_volume_parse(xml, strlen(xml), &error);

    g_assert_cmpstr(v->name, ==, "a&b <c> \"d\" 'e'");
    g_assert_cmpstr(v->backing_path, ==, "/p/x'y&z,w");
    g_assert_no_error(error);
    g_assert_true(sp_volume_equal(v, again));
    g_assert_nonnull(strstr(xml, "<key>/pool/a&amp;b &lt;c&gt;</key>"));
}

/* Tab, LF and CR in text and attributes survive the round trip. */
static void
test_whitespace_round_trip(void)
{
    g_autoptr(SpVolume) v = parse_ok(
        "<volume><name>a&#13;b&#9;c</name><capacity>1</capacity><target>"
        "<encryption format='luks'>"
        "<secret type='passphrase' usage='u&#9;s&#10;e&#13;'/></encryption>"
        "</target></volume>");
    g_autofree char *xml = sp_volume_to_xml(v, "/pool/v");
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) again = sp_volume_parse(xml, strlen(xml), &error);

    g_assert_no_error(error);
    g_assert_cmpstr(again->name, ==, "a\rb\tc");
    g_assert_cmpstr(again->encryption.secret_usage, ==, "u\ts\ne\r");
    g_assert_true(sp_volume_equal(v, again));
}

/* Two secrets are refused by the policy; written out, they stay two. */
static void
test_secrets_round_trip(void)
{
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
    g_autoptr(SpVolume) v = parse_ok(
        "<volume><name>v</name><capacity>1</capacity><target>"
        "<encryption format='luks'>"
        "<secret type='passphrase' "
        "uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>"
        "<secret type='passphrase' usage='other'/></encryption></target>"
        "</volume>");
    g_autofree char *xml = sp_volume_to_xml(v, "/pool/v");
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) again = sp_volume_parse(xml, strlen(xml), &error);

    g_assert_no_error(error);
    g_assert_cmpuint(again->encryption.n_secrets, ==, 2);
    g_assert_true(sp_volume_equal(v, again));
    g_assert_false(sp_volume_check_policy(again, policy, NULL, NULL, &error));
    g_assert_nonnull(strstr(error->message, "2 given"));
}

static void
test_missing_capacity(void)
{
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
    g_autoptr(SpVolume) v = parse_ok("<volume><name>clone</name></volume>");
    g_autoptr(GError) error = NULL;

    g_assert_false(v->has_capacity);
    g_assert_false(sp_volume_check_policy(v, policy, NULL, NULL, &error));
    g_assert_nonnull(strstr(error->message, "element 'capacity'"));
    g_clear_error(&error);
    /* A clone caller fills the capacity from its source first. */
    v->capacity = 4096;
    v->has_capacity = TRUE;
    g_assert_true(sp_volume_check_policy(v, policy, NULL, NULL, &error));
}

static void
test_schema_path(void)
{
    g_autofree char *saved = g_strdup(g_getenv("SAFEPOOL_SCHEMA_DIR"));
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) v = NULL;
    const char *xml = "<volume><name>x</name><capacity>1</capacity></volume>";

    g_setenv("SAFEPOOL_SCHEMA_DIR", "/nonexistent-sp", TRUE);
    g_assert_cmpstr(sp_volume_schema_path(), ==,
                    "/nonexistent-sp/storagevol.rng");
    v = sp_volume_parse(xml, strlen(xml), &error);
    g_assert_null(v);
    /* A missing schema is an operational failure, not a bad input. */
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "/nonexistent-sp/storagevol.rng"));
    g_clear_error(&error);
    g_unsetenv("SAFEPOOL_SCHEMA_DIR");
    g_assert_true(g_str_has_suffix(sp_volume_schema_path(), "/storagevol.rng"));
#ifdef SAFEPOOL_SCHEMA_DIR
    g_assert_true(g_file_test(sp_volume_schema_path(), G_FILE_TEST_EXISTS));
#else
    /* a package build (-Dschema_from_source=false): only where it is
     * installed, never a path of the build machine */
    g_assert_cmpstr(sp_volume_schema_path(), ==,
                    SAFEPOOL_SCHEMA_INSTALL_DIR "/storagevol.rng");
#endif
    if (saved)
        g_setenv("SAFEPOOL_SCHEMA_DIR", saved, TRUE);
    v = sp_volume_parse(xml, strlen(xml), &error);
    g_assert_no_error(error);
}

static void
test_image_format(void)
{
    g_autoptr(SpVolume) raw = sp_volume_new();
    g_autoptr(SpVolume) q = sp_volume_new();

    g_assert_cmpint(sp_volume_image_format(raw), ==, SP_FORMAT_RAW);
    raw->encryption.enabled = TRUE;
    raw->encryption.format = g_strdup("luks");
    g_assert_cmpint(sp_volume_image_format(raw), ==, SP_FORMAT_LUKS);
    q->format = SP_FORMAT_QCOW2;
    q->encryption.enabled = TRUE;
    q->encryption.format = g_strdup("luks");
    g_assert_cmpint(sp_volume_image_format(q), ==, SP_FORMAT_QCOW2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/volume-checks/all-problems", test_all_problems);
    g_test_add_func("/volume-checks/size-cap", test_size_cap);
    g_test_add_func("/volume-checks/entities-refused-fast",
                    test_entities_refused_fast);
    g_test_add_func("/volume-checks/check-name", test_check_name);
    g_test_add_func("/volume-checks/default-policy-formats",
                    test_default_policy_formats);
    g_test_add_func("/volume-checks/backing-containment",
                    test_backing_without_pool);
    g_test_add_func("/volume-checks/extended-l2-policy",
                    test_extended_l2_policy);
    g_test_add_func("/volume-checks/escaping-round-trip",
                    test_escaping_round_trip);
    g_test_add_func("/volume-checks/whitespace-round-trip",
                    test_whitespace_round_trip);
    g_test_add_func("/volume-checks/secrets-round-trip",
                    test_secrets_round_trip);
    g_test_add_func("/volume-checks/missing-capacity", test_missing_capacity);
    g_test_add_func("/volume-checks/schema-path", test_schema_path);
    g_test_add_func("/volume-checks/image-format", test_image_format);
    return g_test_run();
}
