/* Domain XML facts safepool needs for vTPM states: uuid, name, the domain's
 * <seclabel> elements and its emulated TPM. No DTD, no entities, no network. */
#include "conf/sp-seclabel.h"
#include "conf/sp-volume-read.h"

#include <libxml/tree.h>
#include <string.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

/* Longest label we accept; the kernel limits xattr values to 64 KiB, real
 * contexts are < 256 bytes. */
#define SP_LABEL_MAX 4096
#define SP_DOMAIN_XML_MAX (16 * 1024 * 1024)

static gboolean
is_ident_char(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* user, role, type: [A-Za-z0-9_.-]+ */
static const char *
scan_ident(const char *p)
{
    const char *s = p;

    while (*p && is_ident_char(*p))
        p++;
    return p == s ? NULL : p;
}

/* One MLS/MCS level: sensitivity [":" category ("," category)*], a category
 * being "c3" or a range "c0.c1023". */
static const char *
scan_level(const char *p)
{
    const char *s = p;

    while (g_ascii_isalnum(*p) || *p == '_')
        p++;
    if (p == s)
        return NULL;
    if (*p != ':')
        return p;
    p++;
    for (;;) {
        for (int half = 0; half < 2; half++) {
            s = p;
            while (g_ascii_isalnum(*p) || *p == '_')
                p++;
            if (p == s)
                return NULL;
            if (half == 0 && *p == '.')
                p++;
            else
                break;
        }
        if (*p != ',')
            return p;
        p++;
    }
}

gboolean
sp_label_is_valid(const char *label)
{
    const char *p = label;

    if (!label || !*label || strlen(label) > SP_LABEL_MAX)
        return FALSE;
    for (int field = 0; field < 3; field++) {
        p = scan_ident(p);
        if (!p)
            return FALSE;
        if (field < 2) {
            if (*p != ':')
                return FALSE;
            p++;
        }
    }
    if (*p == '\0')
        return TRUE; /* a context without MLS part (non-MLS policy) */
    if (*p != ':')
        return FALSE;
    p = scan_level(p + 1);
    if (!p)
        return FALSE;
    if (*p == '-') {
        p = scan_level(p + 1);
        if (!p)
            return FALSE;
    }
    return *p == '\0';
}

char *
sp_uuid_normalize(const char *uuid, GError **error)
{
    GString *out;
    guint ndigits = 0;

    if (!uuid || strlen(uuid) > 64)
        goto bad;
    out = g_string_sized_new(37);
    for (const char *p = uuid; *p; p++) {
        if (*p == '-')
            continue;
        if (!g_ascii_isxdigit(*p)) {
            g_string_free(out, TRUE);
            goto bad;
        }
        if (ndigits == 8 || ndigits == 12 || ndigits == 16 || ndigits == 20)
            g_string_append_c(out, '-');
        g_string_append_c(out, g_ascii_tolower(*p));
        ndigits++;
    }
    if (ndigits != 32) {
        g_string_free(out, TRUE);
        goto bad;
    }
    return g_string_free(out, FALSE);

bad:
    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("uuid '%s': not 32 hexadecimal digits"),
                uuid ? uuid : "");
    return NULL;
}

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

static gboolean
is_elem(xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns == NULL &&
           strcmp((const char *) n->name, name) == 0;
}

/* Text of an element; refuses control characters (a label or name with a
 * newline would forge lines in our output and in logs). */
static char *
elem_text(xmlNode *n, const char *what, GError **error)
{
    xmlChar *raw = xmlNodeGetContent(n);
    g_autofree char *text = g_strdup(raw ? (const char *) raw : "");

    xmlFree(raw);
    g_strstrip(text);
    for (const char *p = text; *p; p++) {
        if ((guchar) *p < 0x20 || *p == 0x7f) {
            g_set_error(error, SP_ERROR, SP_ERROR_XML,
                        _("domain XML <%s>: control character in value"),
                        what);
            return NULL;
        }
    }
    return g_steal_pointer(&text);
}

static char *
attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *) name);
    char *r = v ? g_strdup((const char *) v) : NULL;

    xmlFree(v);
    return r;
}

static void
replace_str(char **slot, char *value)
{
    g_free(*slot);
    *slot = value;
}

static gboolean
parse_seclabel(SpDomainInfo *d, xmlNode *sec, GError **error)
{
    g_autofree char *model = attr(sec, "model");
    g_autofree char *type = attr(sec, "type");
    gboolean selinux = g_strcmp0(model, "selinux") == 0;
    gboolean dac = g_strcmp0(model, "dac") == 0;

    if (selinux)
        d->selinux_type = g_strdup(type ? type : "dynamic");
    for (xmlNode *c = sec->children; c; c = c->next) {
        gboolean is_label = is_elem(c, "label");
        gboolean is_image = is_elem(c, "imagelabel");
        g_autofree char *text = NULL;

        if (!is_label && !is_image)
            continue;
        text = elem_text(c, is_label ? "label" : "imagelabel", error);
        if (!text)
            return FALSE;
        if (selinux && (is_image || is_label) && !sp_label_is_valid(text)) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("domain XML <seclabel model='selinux'> <%s> '%s': "
                          "not a valid SELinux context"),
                        is_label ? "label" : "imagelabel", text);
            return FALSE;
        }
        if (selinux && is_image)
            replace_str(&d->selinux_imagelabel, g_steal_pointer(&text));
        else if (selinux)
            replace_str(&d->selinux_label, g_steal_pointer(&text));
        else if (dac && is_label)
            replace_str(&d->dac_label, g_steal_pointer(&text));
    }
    return TRUE;
}

/* libvirt fills in the version when a domain is defined; for XML written by
 * hand we apply libvirt 9's default: 2.0 for tpm-crb/tpm-spapr, else 1.2. */
static void
parse_tpm(SpDomainInfo *d, xmlNode *tpm)
{
    g_autofree char *model = attr(tpm, "model");

    for (xmlNode *b = tpm->children; b; b = b->next) {
        g_autofree char *type = NULL;
        g_autofree char *version = NULL;

        if (!is_elem(b, "backend"))
            continue;
        type = attr(b, "type");
        if (g_strcmp0(type, "emulator") != 0)
            continue;
        version = attr(b, "version");
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
    xmlDoc *doc;
    xmlNode *root;
    gboolean ok = TRUE;

    doc = sp_xml_read_safe("domain", xml, len, SP_DOMAIN_XML_MAX, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!is_elem(root, "domain")) {
        g_set_error(error, SP_ERROR, SP_ERROR_XML,
                    _("domain XML: root element is not <domain>"));
        ok = FALSE;
    }
    for (xmlNode *c = ok ? root->children : NULL; c && ok; c = c->next) {
        if (is_elem(c, "uuid")) {
            g_autofree char *text = elem_text(c, "uuid", error);

            ok = text && (d->uuid = sp_uuid_normalize(text, error));
        } else if (is_elem(c, "name")) {
            g_free(d->name);
            ok = (d->name = elem_text(c, "name", error)) != NULL;
        } else if (is_elem(c, "seclabel")) {
            ok = parse_seclabel(d, c, error);
        } else if (is_elem(c, "devices")) {
            for (xmlNode *dev = c->children; dev; dev = dev->next)
                if (is_elem(dev, "tpm"))
                    parse_tpm(d, dev);
        }
    }
    xmlFreeDoc(doc);
    if (!ok)
        return NULL;
    if (!d->uuid) {
        g_set_error(error, SP_ERROR, SP_ERROR_XML,
                    _("domain XML: no <uuid>"));
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
