/* Runs one input as volume XML: parse, the policy check under the default
 * policy and one with backing roots, and the round trip through
 * sp_volume_to_xml, which must give the same volume and the same text. */
#include "fuzz-volume-one.h"

#include <stdio.h>
#include <string.h>

#include "conf/sp-volume.h"
#include "fuzz-check.h"
#include "util/sp-error.h"

#define POOL "/srv/pool"

static SpPolicy *policies[2];

/* Once per process: the schema of this source tree (the libFuzzer binary
 * runs without meson's test environment; SAFEPOOL_SCHEMA_DIR is the
 * project-wide define of src/conf/meson.build), and the two policies. */
static void
volume_init(void)
{
    static const char probe[] =
        "<volume><name>v</name><capacity>1</capacity></volume>";
    /* every format, ids and sizes that differ from the defaults */
    static const char strict[] = "[volumes]\n"
                                 "formats=raw;qcow2;vmdk;vpc;vhdx;vdi\n"
                                 "max_capacity=1T\n"
                                 "allowed_owners=107\n"
                                 "allowed_groups=0;107\n"
                                 "backing_roots=/srv/base;/var/lib/images\n"
                                 "[inspector]\n"
                                 "allow_extended_l2=false\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) v = NULL;

    if (policies[0])
        return;
    if (!g_getenv("SAFEPOOL_SCHEMA_DIR"))
        g_setenv("SAFEPOOL_SCHEMA_DIR", SP_FUZZ_SCHEMA_DIR, TRUE);
    /* a schema that does not load would refuse every input alike */
    v = sp_volume_parse(probe, strlen(probe), &error);
    if (!v)
        sp_fuzz_fail("volume", "schema '%s': %s", sp_volume_schema_path(),
                     error->message);

    policies[0] = sp_policy_new_default();
    policies[1] = sp_policy_load_data(strict, strlen(strict), "strict", &error);
    if (!policies[1])
        sp_fuzz_fail("volume", "policy: %s", error->message);
}

static void
check_policy(const SpVolume *v, const SpPolicy *policy, const char *pool)
{
    g_autoptr(GPtrArray) problems =
        g_ptr_array_new_with_free_func((GDestroyNotify)sp_problem_free);
    g_autoptr(GError) error = NULL;
    gboolean ok = sp_volume_check_policy(v, policy, pool, problems, &error);

    /* refused exactly when a problem is listed, the first one as error */
    if (ok != (problems->len == 0) || ok != (error == NULL))
        sp_fuzz_fail("volume policy", "result %d with %u problems", ok,
                     problems->len);
    if (ok)
        return;
    sp_fuzz_check_refusal("volume policy", error,
                          SP_FUZZ_CODE(SP_ERROR_INVALID));
    if (!sp_error_element(error))
        sp_fuzz_fail("volume policy", "no element in '%s'", error->message);
    for (guint i = 0; i < problems->len; i++) {
        const SpProblem *p = problems->pdata[i];
        sp_fuzz_check_line("volume policy problem", p->message);
    }
}

int
sp_fuzz_volume_one(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) v = NULL;
    g_autoptr(SpVolume) again = NULL;
    g_autoptr(SpVolume) copy = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *xml2 = NULL;

    sp_fuzz_setup();
    volume_init();
    v = sp_volume_parse((const char *)data, size, &error);
    if (!v) {
        sp_fuzz_check_refusal("volume parse", error,
                              SP_FUZZ_CODE(SP_ERROR_XML) |
                                  SP_FUZZ_CODE(SP_ERROR_INVALID));
        return 0;
    }
    check_policy(v, policies[0], POOL);
    check_policy(v, policies[1], POOL);
    check_policy(v, policies[1], NULL);

    copy = sp_volume_copy(v);
    if (!sp_volume_equal(v, copy))
        sp_fuzz_fail("volume copy", "differs from the original");

    /* sp-volume-xml.c: "the output parses back to an equal SpVolume" */
    xml = sp_volume_to_xml(v, POOL "/vol");
    again = sp_volume_parse(xml, strlen(xml), &error);
    if (!again)
        sp_fuzz_fail("volume round trip", "%s\nre-parsing:\n%s", error->message,
                     xml);
    if (!sp_volume_equal(v, again))
        sp_fuzz_fail("volume round trip", "a different volume from:\n%s", xml);
    xml2 = sp_volume_to_xml(again, POOL "/vol");
    if (strcmp(xml, xml2) != 0)
        sp_fuzz_fail("volume round trip", "unstable text:\n%s\nthen:\n%s", xml,
                     xml2);
    return 0;
}
