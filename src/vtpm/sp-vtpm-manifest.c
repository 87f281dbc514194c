/* MANIFEST.json, the first entry of a vTPM archive: written by save,
 * parsed and validated by restore before anything is unpacked. */
#include "vtpm/sp-vtpm-manifest.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "conf/sp-label-syntax.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"
#include "util/sp-json.h"
#include "vtpm/sp-vtpm.h"
#include "vtpm/sp-vtpm-util.h"

static void
entry_free(SpVtpmManifestEntry *e)
{
    g_free(e->path);
    g_free(e->sha256);
    g_free(e);
}

SpVtpmManifest *
sp_vtpm_manifest_new(const char *uuid, const char *tpm_dir)
{
    SpVtpmManifest *m = g_new0(SpVtpmManifest, 1);

    m->uuid = g_strdup(uuid);
    m->tpm_dir = g_strdup(tpm_dir);
    m->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    m->by_path = g_hash_table_new(g_str_hash, g_str_equal);
    return m;
}

void
sp_vtpm_manifest_free(SpVtpmManifest *m)
{
    if (!m)
        return;
    g_free(m->uuid);
    g_free(m->tpm_dir);
    g_free(m->source_label);
    g_free(m->source_host);
    g_hash_table_unref(m->by_path);
    g_ptr_array_unref(m->entries);
    g_free(m);
}

void
sp_vtpm_manifest_add(SpVtpmManifest *m, const char *path, gboolean is_dir,
                     guint32 mode, guint64 size, char *sha256)
{
    SpVtpmManifestEntry *e = g_new0(SpVtpmManifestEntry, 1);

    e->path = g_strdup(path);
    e->is_dir = is_dir;
    e->mode = mode & 07777;
    e->size = is_dir ? 0 : size;
    e->sha256 = sha256;
    m->total_size += e->size;
    g_ptr_array_add(m->entries, e);
    g_hash_table_insert(m->by_path, e->path, e);
}

char *
sp_vtpm_manifest_to_json(const SpVtpmManifest *m, gsize *len)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, SP_VTPM_MANIFEST_FORMAT);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, m->uuid);
    json_builder_set_member_name(b, "tpm_dir");
    json_builder_add_string_value(b, m->tpm_dir);
    json_builder_set_member_name(b, "source_label");
    if (m->source_label)
        json_builder_add_string_value(b, m->source_label);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "source_host");
    json_builder_add_string_value(b, m->source_host ? m->source_host : "");
    json_builder_set_member_name(b, "entries");
    json_builder_begin_array(b);
    for (guint i = 0; i < m->entries->len; i++) {
        SpVtpmManifestEntry *e = g_ptr_array_index(m->entries, i);

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, e->path);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, e->is_dir ? "dir" : "file");
        json_builder_set_member_name(b, "mode");
        json_builder_add_int_value(b, e->mode);
        if (!e->is_dir) {
            json_builder_set_member_name(b, "size");
            json_builder_add_int_value(b, (gint64)e->size);
            json_builder_set_member_name(b, "sha256");
            json_builder_add_string_value(b, e->sha256);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return sp_json_builder_to_text(b, len);
}

gboolean
sp_vtpm_check_relpath(const char *path, GError **error)
{
    g_auto(GStrv) parts = NULL;
    const char *why = NULL;

    if (!path || !*path)
        why = _("empty path");
    else if (path[0] == '/')
        why = _("absolute path");
    else if (strlen(path) > 1024)
        why = _("path longer than 1024 bytes");
    for (const char *p = path; !why && *p; p++)
        if ((guchar)*p < 0x20 || *p == 0x7f)
            why = _("control character in path");
    if (!why) {
        parts = g_strsplit(path, "/", -1);
        for (guint i = 0; !why && parts[i]; i++) {
            if (strcmp(parts[i], "..") == 0)
                why = _("'..' component");
            else if (strcmp(parts[i], ".") == 0 || parts[i][0] == '\0')
                why = _("empty or '.' component");
            else if (strlen(parts[i]) > 255)
                why = _("component longer than 255 bytes");
        }
    }
    if (why) {
        g_autofree char *shown = g_strescape(path ? path : "", NULL);

        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("archive entry '%s': %s"), shown, why);
        return FALSE;
    }
    return TRUE;
}

static gboolean
is_sha256_hex(const char *s)
{
    if (!s || strlen(s) != 64)
        return FALSE;
    for (int i = 0; i < 64; i++)
        if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
            return FALSE;
    return TRUE;
}

/* Typed member access that never emits a GLib critical on hostile input
 * (json-glib's *_with_default accessors do for non-scalar members). */
static const char *
get_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
        json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gint64
get_int(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
        json_node_get_value_type(n) != G_TYPE_INT64)
        return -1;
    return json_node_get_int(n);
}

static gboolean
sp_manifest_bad(GError **error, const char *path, const char *why)
{
    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("manifest: entry '%s': %s"), path, why);
    return FALSE;
}

static gboolean
parse_entry(SpVtpmManifest *m, JsonNode *node, guint64 max, GError **error)
{
    JsonObject *o =
        JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    const char *path = get_str(o, "path");
    const char *type = get_str(o, "type");
    gint64 mode = get_int(o, "mode");
    gboolean is_dir = g_strcmp0(type, "dir") == 0;
    gint64 size = 0;
    const char *sha = NULL;
    g_autofree char *parent = NULL;
    SpVtpmManifestEntry *pe;

    if (!path)
        return sp_manifest_bad(error, "?", _("no path"));
    if (!sp_vtpm_check_relpath(path, error))
        return FALSE;
    if (!is_dir && g_strcmp0(type, "file") != 0)
        return sp_manifest_bad(error, path,
                               _("type is neither 'file' nor 'dir'"));
    if (mode < 0 || mode > 0777)
        return sp_manifest_bad(error, path, _("mode is not permission bits"));
    if (g_hash_table_contains(m->by_path, path))
        return sp_manifest_bad(error, path, _("listed twice"));
    if (strcmp(path, m->tpm_dir) == 0) {
        if (!is_dir || m->entries->len != 0)
            return sp_manifest_bad(error, path,
                                   _("the tpm directory must come first"));
    } else {
        parent = g_path_get_dirname(path);
        pe = g_hash_table_lookup(m->by_path, parent);
        if (!pe || !pe->is_dir)
            return sp_manifest_bad(error, path,
                                   _("parent directory not listed before it"));
    }
    if (!is_dir) {
        size = get_int(o, "size");
        sha = get_str(o, "sha256");
        if (size < 0 || (guint64)size > max)
            return sp_manifest_bad(error, path,
                                   _("size missing or above the limit"));
        if (!is_sha256_hex(sha))
            return sp_manifest_bad(error, path,
                                   _("sha256 is not 64 lowercase hex digits"));
    }
    sp_vtpm_manifest_add(m, path, is_dir, (guint32)mode, (guint64)size,
                         g_strdup(sha));
    if (m->total_size > max)
        return sp_manifest_bad(error, path, _("total size above the limit"));
    return TRUE;
}

SpVtpmManifest *
sp_vtpm_manifest_parse(const char *data, gsize len, guint64 max, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) local = NULL;
    g_autoptr(SpVtpmManifest) m = NULL;
    JsonNode *root;
    JsonObject *o;
    JsonArray *entries;
    const char *uuid, *tpm_dir, *label;

    /* An empty manifest comes as (NULL, 0) from an empty GByteArray, and
     * json-glib takes NULL for a programming error (a critical, no error
     * set): refuse it, and a too large one, before json-glib sees them. */
    if (len == 0 || len > SP_VTPM_MANIFEST_MAX) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID, _("manifest: %s"),
                    len == 0 ? _("empty") : _("too large"));
        return NULL;
    }
    if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
        /* json-glib quotes the token it stopped at */
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID, _("manifest: %s"),
                    sp_error_one_line(local->message));
        return NULL;
    }
    root = json_parser_get_root(parser);
    o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
                                             : NULL;
    if (!o || g_strcmp0(get_str(o, "format"), SP_VTPM_MANIFEST_FORMAT) != 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("manifest: format is not '%s'"), SP_VTPM_MANIFEST_FORMAT);
        return NULL;
    }
    uuid = get_str(o, "uuid") ? get_str(o, "uuid") : "";
    tpm_dir = get_str(o, "tpm_dir") ? get_str(o, "tpm_dir") : "";
    /* both are the archive's text: shown escaped */
    if (!sp_vtpm_is_uuid(uuid)) {
        g_autofree char *shown = sp_error_escape(uuid);
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("manifest: uuid '%s' is not canonical"), shown);
        return NULL;
    }
    if (strcmp(tpm_dir, "tpm2") != 0 && strcmp(tpm_dir, "tpm1.2") != 0) {
        g_autofree char *shown = sp_error_escape(tpm_dir);
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("manifest: tpm_dir '%s' is neither tpm2 nor "
                      "tpm1.2"),
                    shown);
        return NULL;
    }
    m = sp_vtpm_manifest_new(uuid, tpm_dir);
    label = get_str(o, "source_label");
    m->source_label =
        label && sp_label_is_valid(label) ? g_strdup(label) : NULL;
    m->source_host = g_strdup(get_str(o, "source_host"));
    entries =
        json_object_get_member(o, "entries") &&
                JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "entries"))
            ? json_object_get_array_member(o, "entries")
            : NULL;
    if (!entries || json_array_get_length(entries) == 0 ||
        json_array_get_length(entries) > SP_VTPM_MAX_ENTRIES) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("manifest: 'entries' missing, empty or more "
                      "than %d"),
                    SP_VTPM_MAX_ENTRIES);
        return NULL;
    }
    for (guint i = 0; i < json_array_get_length(entries); i++)
        if (!parse_entry(m, json_array_get_element(entries, i), max, error))
            return NULL;
    return g_steal_pointer(&m);
}
