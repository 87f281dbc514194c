/* Domain XML facts safepool needs for vTPM states: uuid, name, the domain's
 * <seclabel> elements and its emulated TPM. No DTD, no entities, no network. */
#include "conf/sp-domain.h"

#include <libxml/tree.h>
#include <string.h>

#include "conf/sp-label-syntax.h"
#include "conf/sp-uuid.h"
#include "conf/sp-volume-read.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

#define SP_DOMAIN_XML_MAX (16 * 1024 * 1024)

void
sp_domain_info_free(SpDomainInfo *d)
{
    if (!d)
        return;
    g_free(d->uuid);
    g_free(d->name);
    g_free(d->selinux_imagelabel);
    g_free(d->selinux_label);
    g_free(d->selinux_type);
    g_free(d->dac_label);
    g_free(d->tpm_version);
    g_free(d);
}

/* Text of an element; refuses control characters (a label or name with a
 * newline would forge lines in our output and in logs). */
static char *
sp_domain_elem_text(xmlNode *n, const char *what, GError **error)
{
    xmlChar *raw = xmlNodeGetContent(n);
    g_autofree char *text = g_strdup(raw ? (const char *)raw : "");

    xmlFree(raw);
    g_strstrip(text);
    for (const char *p = text; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            g_set_error(error, SP_ERROR, SP_ERROR_XML,
                        _("domain XML <%s>: control character in value"), what);
            return NULL;
        }
    }
    return g_steal_pointer(&text);
}

/* libvirt reads the first <uuid> and <name> (./uuid[1]) and refuses a
 * second <seclabel> of one model: taking a later one would act on another
 * domain's state or label than libvirt does, so a repeat is refused. */
static gboolean
sp_domain_once(gboolean seen, const char *what, GError **error)
{
    if (!seen)
        return TRUE;
    g_set_error(error, SP_ERROR, SP_ERROR_XML,
                _("domain XML: more than one %s"), what);
    return FALSE;
}

#define SP_SEEN_SELINUX (1u << 0)
#define SP_SEEN_DAC (1u << 1)

static gboolean
sp_domain_parse_seclabel(SpDomainInfo *d, xmlNode *sec, guint *seen,
                         GError **error)
{
    g_autofree char *model = sp_xml_attr(sec, "model");
    g_autofree char *type = sp_xml_attr(sec, "type");
    gboolean selinux = g_strcmp0(model, "selinux") == 0;
    gboolean dac = g_strcmp0(model, "dac") == 0;
    gboolean seen_label = FALSE, seen_image = FALSE;

    if (selinux && !sp_domain_once(*seen & SP_SEEN_SELINUX,
                                   "<seclabel model='selinux'>", error))
        return FALSE;
    if (dac &&
        !sp_domain_once(*seen & SP_SEEN_DAC, "<seclabel model='dac'>", error))
        return FALSE;
    *seen |= selinux ? SP_SEEN_SELINUX : dac ? SP_SEEN_DAC : 0;
    if (selinux)
        d->selinux_type = g_strdup(type ? type : "dynamic");
    for (xmlNode *c = sec->children; c; c = c->next) {
        gboolean is_label = sp_xml_is_element(c, "label");
        gboolean is_image = sp_xml_is_element(c, "imagelabel");
        const char *what = is_label ? "label" : "imagelabel";
        g_autofree char *text = NULL;

        if (!is_label && !is_image)
            continue;
        if (!sp_domain_once(is_label ? seen_label : seen_image,
                            is_label ? "<label> in a <seclabel>"
                                     : "<imagelabel> in a <seclabel>",
                            error))
            return FALSE;
        seen_label |= is_label;
        seen_image |= is_image;
        text = sp_domain_elem_text(c, what, error);
        if (!text)
            return FALSE;
        if (selinux && !sp_label_is_valid(text)) {
            g_autofree char *shown = sp_error_escape(text);

            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("domain XML <seclabel model='selinux'> <%s> '%s': "
                          "not a valid SELinux context"),
                        what, shown);
            return FALSE;
        }
        if (selinux && is_image)
            d->selinux_imagelabel = g_steal_pointer(&text);
        else if (selinux)
            d->selinux_label = g_steal_pointer(&text);
        else if (dac && is_label)
            d->dac_label = g_steal_pointer(&text);
    }
    return TRUE;
}

/* libvirt fills in the version when a domain is defined; for XML written by
 * hand we apply libvirt 9's default: 2.0 for tpm-crb/tpm-spapr, else 1.2. */
static void
sp_domain_parse_tpm(SpDomainInfo *d, xmlNode *tpm)
{
    g_autofree char *model = sp_xml_attr(tpm, "model");

    for (xmlNode *b = tpm->children; b; b = b->next) {
        g_autofree char *type = NULL;
        g_autofree char *version = NULL;

        if (!sp_xml_is_element(b, "backend"))
            continue;
        type = sp_xml_attr(b, "type");
        if (g_strcmp0(type, "emulator") != 0)
            continue;
        version = sp_xml_attr(b, "version");
        d->has_tpm_emulator = TRUE;
        g_free(d->tpm_version);
        if (version)
            d->tpm_version = g_steal_pointer(&version);
        else if (g_strcmp0(model, "tpm-crb") == 0 ||
                 g_strcmp0(model, "tpm-spapr") == 0)
            d->tpm_version = g_strdup("2.0");
        else
            d->tpm_version = g_strdup("1.2");
    }
}

SpDomainInfo *
sp_domain_info_parse(const char *xml, gsize len, GError **error)
{
    g_autoptr(SpDomainInfo) d = g_new0(SpDomainInfo, 1);
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root;
    gboolean ok = TRUE;
    guint seen = 0;

    doc = sp_xml_read_safe("domain", xml, len, SP_DOMAIN_XML_MAX, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!sp_xml_is_element(root, "domain")) {
        g_set_error(error, SP_ERROR, SP_ERROR_XML,
                    _("domain XML: root element is not <domain>"));
        ok = FALSE;
    }
    for (xmlNode *c = ok ? root->children : NULL; c && ok; c = c->next) {
        if (sp_xml_is_element(c, "uuid")) {
            g_autofree char *text = NULL;

            ok = sp_domain_once(d->uuid != NULL, "<uuid>", error) &&
                 (text = sp_domain_elem_text(c, "uuid", error)) &&
                 (d->uuid = sp_uuid_normalize(text, error));
        } else if (sp_xml_is_element(c, "name")) {
            ok = sp_domain_once(d->name != NULL, "<name>", error) &&
                 (d->name = sp_domain_elem_text(c, "name", error)) != NULL;
        } else if (sp_xml_is_element(c, "seclabel")) {
            ok = sp_domain_parse_seclabel(d, c, &seen, error);
        } else if (sp_xml_is_element(c, "devices")) {
            for (xmlNode *dev = c->children; dev; dev = dev->next)
                if (sp_xml_is_element(dev, "tpm"))
                    sp_domain_parse_tpm(d, dev);
        }
    }
    if (!ok)
        return NULL;
    if (!d->uuid) {
        g_set_error(error, SP_ERROR, SP_ERROR_XML, _("domain XML: no <uuid>"));
        return NULL;
    }
    return g_steal_pointer(&d);
}

SpDomainInfo *
sp_domain_info_parse_file(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;
    SpDomainInfo *d;

    data = sp_fs_read_input(path, _("domain XML"), SP_DOMAIN_XML_MAX + 1, &len,
                            error);
    if (!data)
        return NULL;
    d = sp_domain_info_parse(data, len, &local);
    if (!d) {
        g_set_error(error, SP_ERROR, local->code, _("%s: %s"), path,
                    local->message);
        return NULL;
    }
    return d;
}
