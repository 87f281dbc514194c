/* libvirt storage pool XML for the CLI (see sp-pool-xml.h). */
#include "conf/sp-pool-xml.h"

#include <stdarg.h>
#include <string.h>

#include "conf/sp-volume-read.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

#define SP_POOL_XML_MAX (256 * 1024)

void
sp_pool_xml_free(SpPoolXml *p)
{
    if (!p)
        return;
    g_free(p->name);
    g_free(p->target_path);
    g_free(p->source_name);
    g_strfreev(p->monitors);
    g_free(p->auth_user);
    g_free(p);
}

static xmlNode *
child(const xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next) {
        if (sp_xml_is_element(c, name))
            return c;
    }
    return NULL;
}

static char *
child_text(const xmlNode *node, const char *name)
{
    xmlNode *c = child(node, name);
    xmlChar *t;
    char *s;

    if (!c)
        return NULL;
    t = xmlNodeGetContent(c);
    s = g_strstrip(g_strdup((const char *)t));
    xmlFree(t);
    return s;
}

static gboolean G_GNUC_PRINTF(2, 3) bad(GError **error, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, SP_ERROR, SP_ERROR_INVALID, msg);
    return FALSE;
}

/* A value from the XML, escaped for a one-line message. */
static char *
shown(const char *s)
{
    return g_strescape(s ? s : "", NULL);
}

static gboolean
parse_rbd(SpPoolXml *p, const xmlNode *source, GError **error)
{
    g_autoptr(GPtrArray) mons = g_ptr_array_new_with_free_func(g_free);
    xmlNode *auth = child(source, "auth");
    g_autofree char *auth_type = NULL;

    p->source_name = child_text(source, "name");
    if (!p->source_name || !*p->source_name)
        return bad(error, "%s", _("pool XML: rbd pool needs <source><name>"));
    for (xmlNode *c = source->children; c; c = c->next) {
        g_autofree char *host = NULL;
        g_autofree char *port = NULL;
        guint64 n;

        if (!sp_xml_is_element(c, "host"))
            continue;
        host = sp_xml_attr(c, "name");
        port = sp_xml_attr(c, "port");
        if (!host || !*host)
            return bad(error, "%s", _("pool XML: <host> without a name"));
        if (port && !g_ascii_string_to_unsigned(port, 10, 1, 65535, &n, NULL)) {
            g_autofree char *p_shown = shown(port);

            return bad(error, _("pool XML: <host port='%s'> is not a port"),
                       p_shown);
        }
        /* an IPv6 address goes in brackets before its port */
        g_ptr_array_add(mons, !port ? g_strdup(host)
                              : strchr(host, ':')
                                  ? g_strdup_printf("[%s]:%s", host, port)
                                  : g_strdup_printf("%s:%s", host, port));
    }
    if (mons->len == 0)
        return bad(error, "%s", _("pool XML: rbd pool needs a <host>"));
    g_ptr_array_add(mons, NULL);
    p->monitors = (char **)g_ptr_array_steal(mons, NULL);
    auth_type = auth ? sp_xml_attr(auth, "type") : NULL;
    if (!auth || g_strcmp0(auth_type, "ceph") != 0)
        return bad(error, "%s",
                   _("pool XML: rbd pool needs <auth type='ceph' "
                     "username='...'> (safepool uses cephx only)"));
    p->auth_user = sp_xml_attr(auth, "username");
    return TRUE;
}

SpPoolXml *
sp_pool_xml_parse(const char *xml, gsize len, GError **error)
{
    g_autoptr(xmlDoc) doc =
        sp_xml_read_safe(_("pool"), xml, len, SP_POOL_XML_MAX, error);
    g_autoptr(SpPoolXml) p = NULL;
    g_autofree char *type = NULL;
    xmlNode *root;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || !sp_xml_is_element(root, "pool")) {
        g_set_error(error, SP_ERROR, SP_ERROR_XML,
                    _("pool XML: the root element must be <pool>"));
        return NULL;
    }
    p = g_new0(SpPoolXml, 1);
    p->name = child_text(root, "name");
    type = sp_xml_attr(root, "type");
    if (g_strcmp0(type, "dir") == 0) {
        g_autofree char *path = child_text(child(root, "target"), "path");

        p->type = SP_POOL_XML_DIR;
        if (!path || !(p->target_path = sp_fs_normalize_abs(path, NULL))) {
            g_autofree char *s = shown(path);

            bad(error,
                _("pool XML: dir pool needs an absolute <target><path> "
                  "('%s')"),
                s);
            return NULL;
        }
    } else if (g_strcmp0(type, "rbd") == 0) {
        xmlNode *source = child(root, "source");

        p->type = SP_POOL_XML_RBD;
        if (!source) {
            bad(error, "%s", _("pool XML: rbd pool needs a <source>"));
            return NULL;
        }
        if (!parse_rbd(p, source, error))
            return NULL;
    } else {
        g_autofree char *s = shown(type);

        bad(error,
            _("pool XML: pool type '%s' is not served by safepool (dir, "
              "rbd)"),
            s);
        return NULL;
    }
    return g_steal_pointer(&p);
}

SpPoolXml *
sp_pool_xml_parse_file(const char *path, GError **error)
{
    gsize len = 0;
    g_autofree char *data =
        sp_fs_read_input(path, _("pool XML"), SP_POOL_XML_MAX, &len, error);

    return data ? sp_pool_xml_parse(data, len, error) : NULL;
}
