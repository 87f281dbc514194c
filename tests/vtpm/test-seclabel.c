#include <string.h>
/* Domain XML <seclabel>/<tpm> parsing and the SELinux label syntax check. */
#include <glib.h>

#include "conf/sp-domain.h"
#include "conf/sp-label-syntax.h"
#include "conf/sp-uuid.h"
#include "util/sp-error.h"

static void
test_label_valid(void)
{
    const char *good[] = {
        "system_u:object_r:svirt_image_t:s0:c10,c20",
        "system_u:object_r:svirt_image_t:s0",
        "system_u:system_r:svirt_t:s0:c1.c1023",
        "system_u:object_r:virt_var_lib_t:s0-s0:c0.c1023",
        "user_u:object_r:tmp_t",
    };
    const char *bad[] = {
        "",
        "system_u",
        "system_u:object_r",
        "system_u:object_r:",
        "system_u:object_r:svirt_image_t:",
        "system_u:object_r:t:s0:",
        "system_u:object_r:t:s0:c1,",
        "system_u:object_r:t:s0 ",
        "system_u:object_r:t:s0\n",
        "a b:r:t:s0",
        "u:r:t:s0:c1..c2",
        "u:r:t:s0-",
        "u:r:t:s0:c1;rm",
        "../x:r:t:s0",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
        g_assert_true(sp_label_is_valid(good[i]));
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (sp_label_is_valid(bad[i]))
            g_error("label '%s' accepted", bad[i]);
    }
    g_assert_false(sp_label_is_valid(NULL));
}

static const char dom_xml[] =
    "<domain type='qemu'>\n"
    "  <name>vm1</name>\n"
    "  <uuid>6B1F0E1C-8E3B-4F0A-9C7E-1234567890AB</uuid>\n"
    "  <devices>\n"
    "    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>\n"
    "    <disk><seclabel "
    "model='selinux'><label>x:y:z:s0</label></seclabel></disk>\n"
    "  </devices>\n"
    "  <seclabel type='dynamic' model='selinux' relabel='yes'>\n"
    "    <label>system_u:system_r:svirt_t:s0:c10,c20</label>\n"
    "    <imagelabel>system_u:object_r:svirt_image_t:s0:c10,c20</imagelabel>\n"
    "  </seclabel>\n"
    "  <seclabel type='dynamic' model='dac' relabel='yes'>\n"
    "    <label>+64055:+994</label><imagelabel>+64055:+994</imagelabel>\n"
    "  </seclabel>\n"
    "</domain>\n";

static void
test_domain_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpDomainInfo) d =
        sp_domain_info_parse(dom_xml, sizeof dom_xml - 1, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(d->uuid, ==, "6b1f0e1c-8e3b-4f0a-9c7e-1234567890ab");
    g_assert_cmpstr(d->name, ==, "vm1");
    g_assert_cmpstr(d->selinux_imagelabel, ==,
                    "system_u:object_r:svirt_image_t:s0:c10,c20");
    g_assert_cmpstr(d->selinux_label, ==,
                    "system_u:system_r:svirt_t:s0:c10,c20");
    g_assert_cmpstr(d->selinux_type, ==, "dynamic");
    g_assert_cmpstr(d->dac_label, ==, "+64055:+994");
    g_assert_true(d->has_tpm_emulator);
    g_assert_cmpstr(d->tpm_version, ==, "2.0");
}

static void
test_domain_refused(void)
{
    struct {
        const char *xml;
        int code;
        const char *needle;
    } cases[] = {
        {"<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
         "<domain><uuid>6b1f0e1c8e3b4f0a9c7e1234567890ab</uuid><name>&x;</"
         "name></domain>",
         SP_ERROR_XML, "DOCTYPE"},
        {"<domain><name>a</name></domain>", SP_ERROR_XML, "no <uuid>"},
        {"<domain><uuid>zz</uuid></domain>", SP_ERROR_INVALID, "'zz'"},
        {"<vm/>", SP_ERROR_XML, "not <domain>"},
        {"<domain><uuid>6b1f0e1c8e3b4f0a9c7e1234567890ab</uuid>"
         "<seclabel model='selinux'><imagelabel>bad "
         "label</imagelabel></seclabel></domain>",
         SP_ERROR_INVALID, "'bad label'"},
        {"<domain><uuid>6b1f0e1c8e3b4f0a9c7e1234567890ab</uuid><name>a&#10;b</"
         "name></domain>",
         SP_ERROR_XML, "control character"},
        {"<domain>", SP_ERROR_XML, "domain XML"},
        {"<?xml version='1.0' encoding='UTF-16'?><domain/>", SP_ERROR_XML,
         "domain XML element 'domain': malformed XML"},
        /* repeats: libvirt takes the first (or refuses), so do we */
        {"<domain><uuid>6b1f0e1c8e3b4f0a9c7e1234567890ab</uuid>"
         "<uuid>00000000000000000000000000000001</uuid></domain>",
         SP_ERROR_XML, "more than one <uuid>"},
        {"<domain><uuid>6b1f0e1c8e3b4f0a9c7e1234567890ab</uuid>"
         "<name>a</name><name>b</name></domain>",
         SP_ERROR_XML, "more than one <name>"},
        {"<domain><uuid>6b1f0e1c8e3b4f0a9c7e1234567890ab</uuid>"
         "<seclabel model='selinux'/><seclabel model='selinux'/></domain>",
         SP_ERROR_XML, "more than one <seclabel model='selinux'>"},
        {"<domain><uuid>6b1f0e1c8e3b4f0a9c7e1234567890ab</uuid>"
         "<seclabel model='dac'><label>a</label><label>b</label></seclabel>"
         "</domain>",
         SP_ERROR_XML, "more than one <label> in a <seclabel>"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SpDomainInfo) d =
            sp_domain_info_parse(cases[i].xml, strlen(cases[i].xml), &error);

        g_assert_null(d);
        g_assert_error(error, SP_ERROR, cases[i].code);
        if (!strstr(error->message, cases[i].needle))
            g_error("case %zu: '%s' lacks '%s'", i, error->message,
                    cases[i].needle);
    }
}

/* A refused uuid (from --uuid or domain XML) is shown escaped and cut
 * short: the error stays one line. */
static void
test_uuid_refused(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *longer = g_strnfill(200, 'a');

    g_assert_null(sp_uuid_normalize("6b1f0e1c\n8e3b", &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "uuid '6b1f0e1c\\n8e3b': not 32 hexadecimal digits");
    g_clear_error(&error);
    g_assert_null(sp_uuid_normalize(longer, &error));
    g_assert_nonnull(strstr(error->message, "aaa...': not 32"));
    g_assert_cmpuint(strlen(error->message), <, 120);
}

static void
test_tpm_default_version(void)
{
    const char *xml =
        "<domain><uuid>6b1f0e1c-8e3b-4f0a-9c7e-1234567890ab</uuid>"
        "<devices><tpm model='tpm-tis'><backend type='emulator'/></tpm>"
        "</devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SpDomainInfo) d = sp_domain_info_parse(xml, strlen(xml), &error);

    g_assert_no_error(error);
    g_assert_true(d->has_tpm_emulator);
    g_assert_cmpstr(d->tpm_version, ==, "1.2");
    g_assert_null(d->selinux_imagelabel);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vtpm/seclabel/label-valid", test_label_valid);
    g_test_add_func("/vtpm/seclabel/domain-parse", test_domain_parse);
    g_test_add_func("/vtpm/seclabel/domain-refused", test_domain_refused);
    g_test_add_func("/vtpm/seclabel/uuid-refused", test_uuid_refused);
    g_test_add_func("/vtpm/seclabel/tpm-default-version",
                    test_tpm_default_version);
    return g_test_run();
}
