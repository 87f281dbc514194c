/* Volume XML -> SpVolume: libvirt's size units, then a strict walk of the
 * validated tree. The walk re-checks structure itself so that every error
 * names the exact element (libxml2's RelaxNG errors often name a parent). */
#include "conf/sp-volume.h"

#include <libxml/tree.h>
#include <string.h>

#include "conf/sp-volume-private.h"
#include "conf/sp-volume-read.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

/* ---- tree walk ---------------------------------------------------------- */

typedef struct {
    int code; /* SP_ERROR_XML if the schema already refused the document */
    GError **error;
    GPtrArray *shown; /* what shown() returned, freed with the walk */
} Walk;

/* The document's @text as an error quotes it: escaped, so that a control
 * character in it cannot break the one-line message (sp_error_escape). */
static const char *
shown(const Walk *w, const char *text)
{
    char *s = sp_error_escape(text);

    g_ptr_array_add(w->shown, s);
    return s;
}

static gboolean G_GNUC_PRINTF(3, 4)
    walk_fail(const Walk *w, const xmlNode *node, const char *fmt, ...)
{
    g_autofree char *path = sp_volume_node_path(node);
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sp_set_error_element(w->error, w->code, path,
                         _("volume XML element '%s': %s"), path, why);
    return FALSE;
}

/* A required child @name of @parent is absent: name the missing element. */
static gboolean
walk_missing(const Walk *w, const xmlNode *parent, const char *name)
{
    g_autofree char *path = sp_volume_node_path(parent);
    g_autofree char *full = NULL;

    if (parent->parent && parent->parent->type == XML_ELEMENT_NODE)
        full = g_strdup_printf("%s/%s", path, name);
    else
        full = g_strdup(name);
    sp_set_error_element(w->error, w->code, full,
                         _("volume XML element '%s': required but missing"),
                         full);
    return FALSE;
}

/* Refuse children other than @allowed (each at most once unless listed in
 * @repeat), namespaced elements and stray text: an element we do not
 * understand must not be silently dropped. */
/* Refuse attributes not named in space-separated @attrs. */
static gboolean
check_attrs(const Walk *w, const xmlNode *node, const char *attrs)
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        g_auto(GStrv) names = g_strsplit(attrs ? attrs : "", " ", -1);
        if (a->ns ||
            !g_strv_contains((const char *const *)names, (const char *)a->name))
            return walk_fail(w, node, _("unknown attribute '%s'"),
                             (const char *)a->name);
    }
    return TRUE;
}

static gboolean
check_children(const Walk *w, const xmlNode *node, const char *const *allowed,
               const char *repeat, const char *attrs)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    if (!check_attrs(w, node, attrs))
        return FALSE;

    for (const xmlNode *c = node->children; c; c = c->next) {
        const char *name = (const char *)c->name;

        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            for (const xmlChar *t = c->content; t && *t; t++) {
                if (!g_ascii_isspace(*t))
                    return walk_fail(w, node, _("unexpected text"));
            }
            continue;
        }
        if (c->type == XML_ENTITY_REF_NODE)
            return walk_fail(w, node, _("entity references are not allowed"));
        if (c->type != XML_ELEMENT_NODE)
            continue; /* comments, processing instructions */
        if (c->ns || !allowed || !g_strv_contains(allowed, name))
            return walk_fail(w, c, _("unknown element"));
        if (g_hash_table_contains(seen, name) &&
            !(repeat && g_str_equal(repeat, name)))
            return walk_fail(w, c, _("given more than once"));
        g_hash_table_add(seen, (gpointer)name);
    }
    return TRUE;
}

static const xmlNode *
sp_walk_child(const xmlNode *node, const char *name)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (sp_xml_is_element(c, name))
            return c;
    }
    return NULL;
}

/* Text of a leaf element; any child element is an error. */
static gboolean
leaf_text(const Walk *w, const xmlNode *node, const char *attrs, char **out)
{
    xmlChar *v;

    if (!check_attrs(w, node, attrs))
        return FALSE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            return walk_fail(w, c, _("unknown element"));
        if (c->type == XML_ENTITY_REF_NODE)
            return walk_fail(w, node, _("entity references are not allowed"));
    }
    v = xmlNodeGetContent(node);
    *out = g_strdup(v ? (const char *)v : "");
    xmlFree(v);
    return TRUE;
}

static gboolean
sp_walk_scaled(const Walk *w, const xmlNode *node, guint64 *out)
{
    g_autofree char *text = NULL;
    g_autofree char *unit = sp_xml_attr(node, "unit");
    g_autofree char *path = sp_volume_node_path(node);
    GError *local = NULL;

    if (!leaf_text(w, node, "unit", &text))
        return FALSE;
    if (!sp_volume_parse_scaled(path, text, unit, out, &local)) {
        local->code = w->code;
        sp_error_set_element(local, path);
        g_propagate_error(w->error, local);
        return FALSE;
    }
    return TRUE;
}

static gboolean
format_type(const Walk *w, const xmlNode *node, SpFormat *out)
{
    g_autofree char *type = sp_xml_attr(node, "type");

    if (!check_children(w, node, NULL, NULL, "type"))
        return FALSE;
    if (!type || !*type)
        return walk_fail(w, node, _("attribute 'type' is required"));
    *out = sp_format_from_string(type);
    if (*out == SP_FORMAT_UNKNOWN || *out == SP_FORMAT_GPT ||
        *out == SP_FORMAT_MBR || *out == SP_FORMAT_LUKS)
        return walk_fail(w, node, _("format '%s' is not supported"),
                         shown(w, type));
    return TRUE;
}

static gboolean
parse_id(const Walk *w, const xmlNode *node, gint64 *out)
{
    g_autofree char *text = NULL;
    guint64 v;

    if (!leaf_text(w, node, NULL, &text))
        return FALSE;
    g_strstrip(text);
    if (g_str_equal(text, "-1")) {
        *out = -1;
        return TRUE;
    }
    if (!g_ascii_isdigit(*text) ||
        !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32 - 1, &v, NULL))
        return walk_fail(w, node, _("'%s' is not a numeric id or -1"),
                         shown(w, text));
    *out = (gint64)v;
    return TRUE;
}

static gboolean
parse_permissions(const Walk *w, const xmlNode *node, SpVolume *v)
{
    static const char *const kids[] = {"mode", "owner", "group", "label", NULL};
    const xmlNode *c;

    if (!check_children(w, node, kids, NULL, NULL))
        return FALSE;
    if ((c = sp_walk_child(node, "mode"))) {
        g_autofree char *text = NULL;
        guint64 m;
        if (!leaf_text(w, c, NULL, &text))
            return FALSE;
        g_strstrip(text);
        if (!*text || strlen(text) > 5 ||
            !g_ascii_string_to_unsigned(text, 8, 0, 07777, &m, NULL))
            return walk_fail(w, c, _("'%s' is not an octal mode"),
                             shown(w, text));
        v->has_mode = TRUE;
        v->mode = (guint32)m;
    }
    if ((c = sp_walk_child(node, "owner")) && !parse_id(w, c, &v->owner))
        return FALSE;
    if ((c = sp_walk_child(node, "group")) && !parse_id(w, c, &v->group))
        return FALSE;
    if ((c = sp_walk_child(node, "label"))) {
        if (!leaf_text(w, c, NULL, &v->label))
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_secret(const Walk *w, const xmlNode *node, SpEncryption *e)
{
    g_autofree char *type = sp_xml_attr(node, "type");
    g_autofree char *uuid = sp_xml_attr(node, "uuid");
    g_autofree char *usage = sp_xml_attr(node, "usage");

    if (!check_children(w, node, NULL, NULL, "type uuid usage"))
        return FALSE;
    if (g_strcmp0(type, "passphrase") != 0)
        return walk_fail(w, node, _("type '%s' is not 'passphrase'"),
                         shown(w, type));
    if (!!uuid == !!usage)
        return walk_fail(w, node,
                         _("exactly one of 'uuid' and 'usage' is required"));
    if (uuid && !g_uuid_string_is_valid(uuid)) {
        /* libvirt also takes the 32 hex digits without dashes. */
        gboolean hex32 = strlen(uuid) == 32;
        for (const char *p = uuid; hex32 && *p; p++)
            hex32 = g_ascii_isxdigit(*p);
        if (!hex32)
            return walk_fail(w, node, _("'%s' is not a UUID"), shown(w, uuid));
    }
    if (usage && !*usage)
        return walk_fail(w, node, _("'usage' must not be empty"));
    e->n_secrets++;
    if (e->n_secrets == 1) {
        e->secret_uuid = g_steal_pointer(&uuid);
        e->secret_usage = g_steal_pointer(&usage);
    }
    return TRUE;
}

static gboolean
parse_encryption(const Walk *w, const xmlNode *node, SpEncryption *e)
{
    static const char *const kids[] = {"secret", "cipher", "ivgen", NULL};
    const xmlNode *c;

    if (!check_children(w, node, kids, "secret", "format engine"))
        return FALSE;
    e->enabled = TRUE;
    e->format = sp_xml_attr(node, "format");
    if (!e->format || !*e->format)
        return walk_fail(w, node, _("attribute 'format' is required"));
    for (c = node->children; c; c = c->next) {
        if (sp_xml_is_element(c, "secret") && !parse_secret(w, c, e))
            return FALSE;
    }
    if ((c = sp_walk_child(node, "cipher"))) {
        g_autofree char *size = sp_xml_attr(c, "size");
        guint64 sz;
        if (!check_children(w, c, NULL, NULL, "name size mode hash"))
            return FALSE;
        e->cipher_name = sp_xml_attr(c, "name");
        e->cipher_mode = sp_xml_attr(c, "mode");
        e->cipher_hash = sp_xml_attr(c, "hash");
        if (!e->cipher_name || !*e->cipher_name)
            return walk_fail(w, c, _("attribute 'name' is required"));
        if (!size || !g_ascii_isdigit(*size) ||
            !g_ascii_string_to_unsigned(size, 10, 1, 65536, &sz, NULL))
            return walk_fail(w, c, _("attribute 'size' is not a key size"));
        e->cipher_size = (guint)sz;
    }
    if ((c = sp_walk_child(node, "ivgen"))) {
        if (!check_children(w, c, NULL, NULL, "name hash"))
            return FALSE;
        e->ivgen_name = sp_xml_attr(c, "name");
        e->ivgen_hash = sp_xml_attr(c, "hash");
        if (!e->ivgen_name || !*e->ivgen_name)
            return walk_fail(w, c, _("attribute 'name' is required"));
    }
    return TRUE;
}

static gboolean
parse_features(const Walk *w, const xmlNode *node, SpVolume *v)
{
    static const char *const kids[] = {"lazy_refcounts", "extended_l2", NULL};
    const xmlNode *c;

    if (!check_children(w, node, kids, NULL, NULL))
        return FALSE;
    if ((c = sp_walk_child(node, "lazy_refcounts"))) {
        if (!check_children(w, c, NULL, NULL, NULL))
            return FALSE;
        v->lazy_refcounts = TRUE;
    }
    if ((c = sp_walk_child(node, "extended_l2"))) {
        if (!check_children(w, c, NULL, NULL, NULL))
            return FALSE;
        v->extended_l2 = TRUE;
    }
    return TRUE;
}

static gboolean
check_leaf(const Walk *w, const xmlNode *node, const char *pattern)
{
    g_autofree char *text = NULL;

    if (!leaf_text(w, node, NULL, &text))
        return FALSE;
    if (pattern && !g_regex_match_simple(pattern, g_strstrip(text), 0, 0))
        return walk_fail(w, node, _("'%s' is not valid here"), shown(w, text));
    return TRUE;
}

/* Output-only elements libvirt accepts on input and ignores: checked for
 * shape so that errors in them name them, then dropped. */
static gboolean
check_timestamps(const Walk *w, const xmlNode *node)
{
    static const char *const kids[] = {"atime", "btime", "ctime", "mtime",
                                       NULL};

    if (!check_children(w, node, kids, NULL, NULL))
        return FALSE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE &&
            !check_leaf(w, c, "^[0-9]+(\\.[0-9]{0,9})?$"))
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_source(const Walk *w, const xmlNode *node)
{
    static const char *const devs[] = {"device", NULL};
    static const char *const exts[] = {"extent", NULL};

    if (!check_children(w, node, devs, "device", NULL))
        return FALSE;
    for (const xmlNode *d = node->children; d; d = d->next) {
        if (d->type != XML_ELEMENT_NODE)
            continue;
        if (!check_children(w, d, exts, "extent", "path"))
            return FALSE;
        for (const xmlNode *e = d->children; e; e = e->next) {
            if (e->type == XML_ELEMENT_NODE &&
                !check_children(w, e, NULL, NULL, "start end"))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_target(const Walk *w, const xmlNode *node, SpVolume *v)
{
    static const char *const kids[] = {
        "path",   "format",      "permissions", "timestamps", "encryption",
        "compat", "clusterSize", "nocow",       "features",   NULL};
    const xmlNode *c;

    if (!check_children(w, node, kids, NULL, NULL))
        return FALSE;
    /* <path> and <timestamps> are output-only in libvirt: ignored. */
    if ((c = sp_walk_child(node, "path")) && !check_leaf(w, c, NULL))
        return FALSE;
    if ((c = sp_walk_child(node, "timestamps")) && !check_timestamps(w, c))
        return FALSE;
    if ((c = sp_walk_child(node, "format")) && !format_type(w, c, &v->format))
        return FALSE;
    if ((c = sp_walk_child(node, "permissions")) && !parse_permissions(w, c, v))
        return FALSE;
    if ((c = sp_walk_child(node, "encryption")) &&
        !parse_encryption(w, c, &v->encryption))
        return FALSE;
    if ((c = sp_walk_child(node, "compat"))) {
        if (!leaf_text(w, c, NULL, &v->compat))
            return FALSE;
        g_strstrip(v->compat);
        if (!g_regex_match_simple("^[0-9]+\\.[0-9]+$", v->compat, 0, 0))
            return walk_fail(w, c, _("'%s' is not a version like '1.1'"),
                             shown(w, v->compat));
    }
    if ((c = sp_walk_child(node, "clusterSize"))) {
        if (!sp_walk_scaled(w, c, &v->cluster_size))
            return FALSE;
        if (v->cluster_size == 0)
            return walk_fail(w, c, _("must not be 0"));
    }
    if ((c = sp_walk_child(node, "nocow"))) {
        if (!check_children(w, c, NULL, NULL, NULL))
            return FALSE;
        v->nocow = TRUE;
    }
    if ((c = sp_walk_child(node, "features")) && !parse_features(w, c, v))
        return FALSE;
    return TRUE;
}

static gboolean
parse_backing(const Walk *w, const xmlNode *node, SpVolume *v)
{
    static const char *const kids[] = {"path", "format", "permissions",
                                       "timestamps", NULL};
    const xmlNode *c;

    if (!check_children(w, node, kids, NULL, NULL))
        return FALSE;
    c = sp_walk_child(node, "path");
    if (!c)
        return walk_missing(w, node, "path");
    if (!leaf_text(w, c, NULL, &v->backing_path))
        return FALSE;
    if (!*v->backing_path)
        return walk_fail(w, c, _("must not be empty"));
    if ((c = sp_walk_child(node, "format")) &&
        !format_type(w, c, &v->backing_format))
        return FALSE;
    if ((c = sp_walk_child(node, "permissions"))) {
        /* The backing file's permissions are not ours to set. */
        g_autoptr(SpVolume) scratch = sp_volume_new();
        if (!parse_permissions(w, c, scratch))
            return FALSE;
    }
    if ((c = sp_walk_child(node, "timestamps")) && !check_timestamps(w, c))
        return FALSE;
    return TRUE;
}

static gboolean
build_volume(const Walk *w, const xmlNode *root, SpVolume *v)
{
    static const char *const kids[] = {"name",     "key",          "source",
                                       "capacity", "allocation",   "physical",
                                       "target",   "backingStore", NULL};
    static const char *const types[] = {"file",   "block", "dir", "network",
                                        "netdir", "ploop", NULL};
    g_autofree char *type = sp_xml_attr(root, "type");
    const xmlNode *c;
    guint64 ignored;

    if (!sp_xml_is_element(root, "volume") || root->ns)
        return walk_fail(w, root, _("the root element must be 'volume'"));
    if (type && !g_strv_contains(types, type))
        return walk_fail(w, root, _("volume type '%s' is not known"),
                         shown(w, type));
    if (!check_children(w, root, kids, NULL, "type"))
        return FALSE;
    c = sp_walk_child(root, "name");
    if (!c)
        return walk_missing(w, root, "name");
    if (!leaf_text(w, c, NULL, &v->name))
        return FALSE;
    /* <key> and <source> describe an existing volume: ignored on input. */
    if ((c = sp_walk_child(root, "key")) && !check_leaf(w, c, NULL))
        return FALSE;
    if ((c = sp_walk_child(root, "source")) && !check_source(w, c))
        return FALSE;
    if ((c = sp_walk_child(root, "capacity"))) {
        if (!sp_walk_scaled(w, c, &v->capacity))
            return FALSE;
        v->has_capacity = TRUE;
    }
    if ((c = sp_walk_child(root, "allocation"))) {
        if (!sp_walk_scaled(w, c, &v->allocation))
            return FALSE;
        v->has_allocation = TRUE;
    }
    if ((c = sp_walk_child(root, "physical")) &&
        !sp_walk_scaled(w, c, &ignored))
        return FALSE;
    if ((c = sp_walk_child(root, "target")) && !parse_target(w, c, v))
        return FALSE;
    if ((c = sp_walk_child(root, "backingStore")) && !parse_backing(w, c, v))
        return FALSE;
    return TRUE;
}

SpVolume *
sp_volume_parse(const char *xml, gsize len, GError **error)
{
    g_autoptr(SpVolume) v = sp_volume_new();
    g_autoptr(GError) schema_error = NULL;
    g_autoptr(GError) build_error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    gboolean valid;
    Walk w;

    doc = sp_xml_read_safe("volume", xml, len, SP_VOLUME_XML_MAX, error);
    if (!doc)
        return NULL;
    valid = sp_volume_validate_doc(doc, &schema_error);
    if (!valid && !g_error_matches(schema_error, SP_ERROR, SP_ERROR_XML)) {
        /* the schema itself could not be loaded */
        g_propagate_error(error, g_steal_pointer(&schema_error));
        return NULL;
    }
    w.code = valid ? SP_ERROR_INVALID : SP_ERROR_XML;
    w.error = &build_error;
    w.shown = g_ptr_array_new_with_free_func(g_free);
    build_volume(&w, xmlDocGetRootElement(doc), v);
    g_ptr_array_unref(w.shown);
    /* The walk's error names the precise element; prefer it. */
    if (build_error) {
        g_propagate_error(error, g_steal_pointer(&build_error));
        return NULL;
    }
    if (!valid) {
        g_propagate_error(error, g_steal_pointer(&schema_error));
        return NULL;
    }
    return g_steal_pointer(&v);
}

SpVolume *
sp_volume_parse_file(const char *path, GError **error)
{
    g_autofree char *xml = NULL;
    gsize len = 0;

    /* One byte over the limit is enough to refuse it by its size. */
    xml = sp_fs_read_input(path, _("volume XML file"), SP_VOLUME_XML_MAX + 1,
                           &len, error);
    if (!xml)
        return NULL;
    return sp_volume_parse(xml, len, error);
}
