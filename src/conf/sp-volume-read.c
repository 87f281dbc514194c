/* Turning untrusted volume XML text into a libxml2 tree safely (no DTD, no
 * entities, no network, bounded size) and validating it against the RelaxNG
 * schema, with libxml2's errors reduced to one line naming the element. */
#include "conf/sp-volume-read.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>
#include <string.h>

#include "conf/sp-volume.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"

typedef struct {
    xmlParserCtxtPtr ctxt; /* NULL while validating */
    gboolean saw_dtd;
    char *element; /* path of the first error's element */
    char *message; /* the first error's text */
} ErrorSink;

char *
sp_volume_node_path(const xmlNode *node)
{
    g_autoptr(GPtrArray) parts = g_ptr_array_new();
    GString *s = g_string_new(NULL);

    for (; node && node->type == XML_ELEMENT_NODE; node = node->parent)
        g_ptr_array_add(parts, (gpointer)node->name);
    /* Paths are relative to <volume>, so drop the root unless it is all. */
    if (parts->len > 1)
        g_ptr_array_remove_index(parts, parts->len - 1);
    for (guint i = parts->len; i > 0; i--) {
        if (s->len)
            g_string_append_c(s, '/');
        g_string_append(s, (const char *)parts->pdata[i - 1]);
    }
    if (!s->len)
        g_string_append(s, "volume");
    return g_string_free(s, FALSE);
}

char *
sp_xml_attr(const xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    char *s = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return s;
}

gboolean
sp_xml_is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           g_str_equal((const char *)node->name, name);
}

static void
sink_clear(ErrorSink *sink)
{
    g_clear_pointer(&sink->element, g_free);
    g_clear_pointer(&sink->message, g_free);
}

/* libxml2 reports a bad child of an <interleave> on the parent ("Extra
 * element capacity in interleave"); blame the child it names instead. */
static const xmlNode *
blamed_child(const xmlNode *node, const char *message)
{
    const char *p = strstr(message, "lement ");
    g_autofree char *name = NULL;
    gsize n = 0;

    if (!p)
        return node;
    p += strlen("lement ");
    while (p[n] && (g_ascii_isalnum(p[n]) || p[n] == '_'))
        n++;
    name = g_strndup(p, n);
    if (g_str_equal(name, (const char *)node->name))
        return node;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE &&
            g_str_equal((const char *)c->name, name))
            return c;
    }
    return node;
}

/* Keep only the first error: later ones are usually consequences of it. */
static void
sink_error(void *data, xmlErrorPtr err)
{
    ErrorSink *sink = data;
    const xmlNode *node = NULL;
    g_autofree char *msg = NULL;

    if (err->level < XML_ERR_ERROR || sink->message)
        return;
    if (err->node && ((xmlNode *)err->node)->type == XML_ELEMENT_NODE)
        node = err->node;
    else if (sink->ctxt)
        node = sink->ctxt->node;
    if (node && !sink->ctxt && err->message)
        node = blamed_child(node, err->message);
    msg = g_strdup(err->message ? err->message : "invalid");
    g_strstrip(msg);
    for (char *c = msg; *c; c++) {
        if (g_ascii_iscntrl(*c))
            *c = ' ';
    }
    if (err->line > 0)
        sink->message = g_strdup_printf(_("%s (line %d)"), msg, err->line);
    else
        sink->message = g_steal_pointer(&msg);
    /* no node: the caller names the document itself (volume or domain) */
    sink->element = node ? sp_volume_node_path(node) : NULL;
}

static void
parser_error(void *data, xmlErrorPtr err)
{
    xmlParserCtxtPtr ctxt = data;

    sink_error(ctxt->_private, err);
}

/* A DOCTYPE is where entities (billion laughs, external SYSTEM files) come
 * from; volume XML never needs one, so stop before any declaration in it is
 * read. */
static void
refuse_internal_subset(void *data, const xmlChar *name, const xmlChar *eid,
                       const xmlChar *sid)
{
    xmlParserCtxtPtr ctxt = data;
    ErrorSink *sink = ctxt->_private;

    sink->saw_dtd = TRUE;
    xmlStopParser(ctxt);
}

static void
refuse_entity_decl(void *data, const xmlChar *name, int type,
                   const xmlChar *publicId, const xmlChar *systemId,
                   xmlChar *content)
{
    refuse_internal_subset(data, name, publicId, systemId);
}

xmlDoc *
sp_xml_read_safe(const char *kind, const char *xml, gsize len, gsize max,
                 GError **error)
{
    ErrorSink sink = {0};
    xmlParserCtxtPtr ctxt;
    xmlDoc *doc = NULL;
    xmlStructuredErrorFunc saved_func = xmlStructuredError;
    void *saved_data = xmlStructuredErrorContext;
    gboolean ok;

    if (len > max || len > G_MAXINT) {
        sp_set_error_element(error, SP_ERROR_XML, kind,
                             _("%s XML element '%s': document is larger "
                               "than %zu bytes"),
                             kind, kind, max);
        return NULL;
    }
    xmlInitParser();
    ctxt = xmlCreateMemoryParserCtxt(xml, (int)len);
    if (!ctxt) {
        sp_set_error_element(error, SP_ERROR_XML, kind,
                             _("%s XML element '%s': empty document"), kind,
                             kind);
        return NULL;
    }
    /* No NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR, no HUGE:
     * libxml2's own depth and size limits stay in force. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA);
    ctxt->_private = &sink;
    sink.ctxt = ctxt;
    ctxt->sax->serror = parser_error;
    ctxt->sax->internalSubset = refuse_internal_subset;
    ctxt->sax->externalSubset = refuse_internal_subset;
    ctxt->sax->entityDecl = refuse_entity_decl;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;

    /* libxml2 raises some errors without the parser context (a failed
     * encoding conversion, the I/O layer under it): those go to the
     * thread's structured handler, else are printed on stderr. Catch them
     * in the sink as well, for this thread and this parse only. */
    xmlSetStructuredErrorFunc(&sink, sink_error);
    xmlParseDocument(ctxt);
    xmlSetStructuredErrorFunc(saved_data, saved_func);
    ok = ctxt->wellFormed && ctxt->nsWellFormed && !sink.saw_dtd;
    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);

    if (sink.saw_dtd) {
        sp_set_error_element(error, SP_ERROR_XML, "!DOCTYPE",
                             _("%s XML element '!DOCTYPE': document type "
                               "declarations and entities are not allowed"),
                             kind);
    } else if (!ok || !doc || !xmlDocGetRootElement(doc)) {
        const char *el = sink.element ? sink.element : kind;

        sp_set_error_element(
            error, SP_ERROR_XML, el,
            _("%s XML element '%s': malformed XML: %s"), kind, el,
            sink.message ? sink.message : _("no root element"));
    }
    if (sink.saw_dtd || !ok || !doc || !xmlDocGetRootElement(doc)) {
        sink_clear(&sink);
        xmlFreeDoc(doc);
        return NULL;
    }
    sink_clear(&sink);
    return doc;
}

/* The parsed schema, shared by every parse; reloaded only if the schema path
 * changes (tests point SAFEPOOL_SCHEMA_DIR elsewhere). */
static GMutex schema_lock;
static xmlRelaxNGPtr schema_cached;
static const char *schema_cached_path;

static xmlRelaxNGPtr
schema_get(GError **error)
{
    const char *path = sp_volume_schema_path();
    xmlRelaxNGParserCtxtPtr pctxt;
    ErrorSink sink = {0};

    if (schema_cached && schema_cached_path == path)
        return schema_cached;
    pctxt = xmlRelaxNGNewParserCtxt(path);
    if (!pctxt) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("volume schema '%s': cannot be loaded"), path);
        return NULL;
    }
    xmlRelaxNGSetParserStructuredErrors(pctxt, sink_error, &sink);
    if (schema_cached)
        xmlRelaxNGFree(schema_cached);
    schema_cached = xmlRelaxNGParse(pctxt);
    schema_cached_path = schema_cached ? path : NULL;
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!schema_cached) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("volume schema '%s': cannot be loaded: %s"), path,
                    sink.message ? sink.message : _("invalid schema"));
        sink_clear(&sink);
        return NULL;
    }
    sink_clear(&sink);
    return schema_cached;
}

gboolean
sp_volume_validate_doc(xmlDoc *doc, GError **error)
{
    /* Held for the whole validation: libxml2 contexts share the schema. */
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&schema_lock);
    xmlRelaxNGValidCtxtPtr vctxt;
    xmlRelaxNGPtr schema;
    ErrorSink sink = {0};
    int rc;

    (void)locker;

    schema = schema_get(error);
    if (!schema)
        return FALSE;
    vctxt = xmlRelaxNGNewValidCtxt(schema);
    if (!vctxt) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("volume schema: out of memory"));
        return FALSE;
    }
    xmlRelaxNGSetValidStructuredErrors(vctxt, sink_error, &sink);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    if (rc != 0) {
        const char *el = sink.element ? sink.element : "volume";

        sp_set_error_element(error, SP_ERROR_XML, el,
                             _("volume XML element '%s': does not match the "
                               "schema: %s"),
                             el, sink.message ? sink.message : _("invalid"));
        sink_clear(&sink);
        return FALSE;
    }
    sink_clear(&sink);
    return TRUE;
}
