/* What the CLI shows people: vol-list sizes as virsh shows them (exact
 * with --bytes and --json). */
#include <string.h>

#include "cli-util.h"

/* The line of @out that starts with @name, split on runs of blanks. */
static char **
row(const char *out, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], name)) {
            g_autoptr(GRegex) re = g_regex_new(" {2,}", 0, 0, NULL);
            return g_regex_split(re, lines[i], 0);
        }
    }
    g_assert_not_reached();
}

static void
test_list_sizes(void)
{
    g_autoptr(CliEnv) e = cli_env_new(NULL);
    g_autofree char *big = cli_write_xml(e, "big.xml",
        "<volume><name>big.img</name><capacity unit='G'>4</capacity>"
        "<allocation>0</allocation>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *small = cli_write_xml(e, "small.xml",
        "<volume><name>small.img</name><capacity unit='KiB'>1536</capacity>"
        "<target><format type='raw'/></target></volume>");
    g_autofree char *out = NULL;
    g_autofree char *bytes = NULL;
    g_autofree char *json = NULL;

    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, big, NULL), ==, 0);
    g_assert_cmpint(cli_run(e, NULL, NULL, "vol-create", "--pool-dir", e->pool, small, NULL), ==, 0);

    g_assert_cmpint(cli_run(e, &out, NULL, "vol-list", "--pool-dir", e->pool, NULL), ==, 0);
    g_auto(GStrv) b = row(out, "big.img");
    g_assert_cmpstr(b[2], ==, "4.00 GiB");
    /* sparse: at most the block the record's xattrs may take */
    g_assert_true(g_regex_match_simple("^[0-9]+\\.[0-9]{2} (B|KiB)$", b[3], 0, 0));
    g_auto(GStrv) s = row(out, "small.img");
    g_assert_cmpstr(s[2], ==, "1.50 MiB");
    g_assert_cmpstr(s[3], ==, "1.50 MiB"); /* fully allocated, as libvirt */

    g_assert_cmpint(cli_run(e, &bytes, NULL, "vol-list", "--bytes", "--pool-dir", e->pool, NULL), ==, 0);
    g_auto(GStrv) bb = row(bytes, "big.img");
    g_assert_cmpstr(g_strstrip(bb[2]), ==, "4294967296");
    g_auto(GStrv) sb = row(bytes, "small.img");
    g_assert_cmpstr(g_strstrip(sb[2]), ==, "1572864");

    /* --json stays exact whatever the text shows */
    g_assert_cmpint(cli_run(e, &json, NULL, "--json", "vol-list", "--pool-dir", e->pool, NULL), ==, 0);
    g_assert_nonnull(strstr(json, "\"capacity\" : 4294967296"));
    g_assert_null(strstr(json, "GiB"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/output/list-sizes", test_list_sizes);
    return g_test_run();
}
