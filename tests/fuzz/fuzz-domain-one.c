/* Runs one input as domain XML, and its text as an SELinux label and a
 * uuid: a parsed domain has a canonical uuid, SELinux labels that pass the
 * label check and no control characters in anything it read. */
#include "fuzz-domain-one.h"

#include <string.h>

#include "conf/sp-domain.h"
#include "conf/sp-label-syntax.h"
#include "conf/sp-uuid.h"
#include "fuzz-check.h"
#include "util/sp-error.h"

static void
check_text(const char *what, const char *text)
{
    if (text)
        sp_fuzz_check_line(what, text);
}

static void
check_label(const char *what, const char *label)
{
    if (label && !sp_label_is_valid(label))
        sp_fuzz_fail("domain", "%s '%s' is not a valid label", what, label);
}

/* The raw text through the two string checks the parser relies on. */
static void
check_strings(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autoptr(GError) error = NULL;
    g_autofree char *uuid = sp_uuid_normalize(text, &error);

    if (!uuid) {
        sp_fuzz_check_refusal("uuid", error, SP_FUZZ_CODE(SP_ERROR_INVALID));
    } else {
        g_autofree char *again = sp_uuid_normalize(uuid, NULL);
        if (strlen(uuid) != 36 || g_strcmp0(again, uuid) != 0)
            sp_fuzz_fail("uuid", "'%s' normalised to '%s', then '%s'", text,
                         uuid, again);
    }
    if (sp_label_is_valid(text))
        sp_fuzz_check_line("label", text);
}

int
sp_fuzz_domain_one(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpDomainInfo) d = NULL;

    sp_fuzz_setup();
    d = sp_domain_info_parse((const char *)data, size, &error);
    check_strings(data, size);
    if (!d) {
        sp_fuzz_check_refusal("domain", error,
                              SP_FUZZ_CODE(SP_ERROR_XML) |
                                  SP_FUZZ_CODE(SP_ERROR_INVALID));
        return 0;
    }
    {
        g_autofree char *uuid = sp_uuid_normalize(d->uuid, &error);
        if (!uuid || !g_str_equal(uuid, d->uuid))
            sp_fuzz_fail("domain", "uuid '%s' is not canonical", d->uuid);
    }
    check_label("selinux imagelabel", d->selinux_imagelabel);
    check_label("selinux label", d->selinux_label);
    sp_label_is_valid(d->dac_label); /* "+64055:+994" is not one: no check */
    check_text("name", d->name);
    check_text("dac label", d->dac_label);
    if (d->has_tpm_emulator != (d->tpm_version != NULL))
        sp_fuzz_fail("domain", "tpm emulator %d with version '%s'",
                     d->has_tpm_emulator, d->tpm_version);
    return 0;
}
