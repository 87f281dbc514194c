/* LUKS v1 and v2: the version the policy allows, and a payload (and key
 * material) that lies inside the file. */
#include "inspect/inspect-private.h"

#include <json-glib/json-glib.h>

#define LUKS_SECTOR 512ull
#define LUKS1_HEADER 592
#define LUKS1_KEYSLOTS 8
#define LUKS1_KEY_ENABLED 0x00AC71F3u
#define LUKS2_BIN_HEADER 4096
#define LUKS2_MAX_HEADER (4 * 1024 * 1024)

gboolean
sp_insp_probe_luks(const SpInspCtx *ctx)
{
    return sp_insp_head_has(ctx, 0, "LUKS\xba\xbe", 6);
}

static void
check_luks1(SpInspCtx *ctx)
{
    const guint8 *h = ctx->head;
    guint64 payload, key_bytes;

    if (ctx->head_len < LUKS1_HEADER) {
        sp_insp_violation(ctx, "truncated-header");
        return;
    }
    payload = (guint64)sp_be32(h + 104) * LUKS_SECTOR;
    key_bytes = sp_be32(h + 108);
    if (payload > ctx->file_size) {
        sp_insp_violation(ctx, "luks-payload-beyond-eof");
        return;
    }
    ctx->virtual_size = ctx->file_size - payload;
    for (guint i = 0; i < LUKS1_KEYSLOTS; i++) {
        const guint8 *ks = h + 208 + i * 48;
        guint64 off = (guint64)sp_be32(ks + 40) * LUKS_SECTOR;
        guint64 len = key_bytes * sp_be32(ks + 44);

        if (sp_be32(ks) != LUKS1_KEY_ENABLED)
            continue;
        if (off > ctx->file_size || len > ctx->file_size - off)
            sp_insp_violation(ctx, "luks-keyslot-beyond-eof");
    }
}

/* Hostile JSON may put any type anywhere: look before taking. */
static JsonObject *
json_obj(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *
json_str(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
        json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gboolean
json_u64(JsonObject *o, const char *member, guint64 *out)
{
    const char *s = json_str(o, member);

    return s && g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, out, NULL);
}

/* LUKS2 keeps its layout in a JSON area after the 4 KiB binary header. */
static gboolean
check_luks2(SpInspCtx *ctx, GError **error)
{
    const guint8 *h = ctx->head;
    guint64 hdr_size, offset, size;
    g_autofree char *json = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    JsonObject *segs, *seg0;
    const char *size_str;
    gsize jlen;
    gssize n;

    if (ctx->head_len < LUKS2_BIN_HEADER) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    hdr_size = sp_be64(h + 8);
    if (hdr_size < 2 * LUKS2_BIN_HEADER || hdr_size > LUKS2_MAX_HEADER ||
        (hdr_size & (hdr_size - 1)) || sp_be64(h + 256) != 0) {
        sp_insp_violation(ctx, "luks-header");
        return TRUE;
    }
    if (hdr_size > ctx->file_size) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    /* do not even allocate what the budget would not let us read */
    if (hdr_size > ctx->budget) {
        sp_insp_violation(ctx, "read-limit-exceeded");
        return TRUE;
    }
    jlen = (gsize)(hdr_size - LUKS2_BIN_HEADER);
    json = g_malloc0(jlen + 1);
    n = sp_insp_read(ctx, json, jlen, LUKS2_BIN_HEADER, error);
    if (n < 0)
        return FALSE;
    if ((gsize)n < jlen) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    jlen = strnlen(json, jlen);
    if (!json_parser_load_from_data(parser, json, (gssize)jlen, NULL) ||
        !(root = json_parser_get_root(parser)) ||
        !JSON_NODE_HOLDS_OBJECT(root)) {
        sp_insp_violation(ctx, "luks-header");
        return TRUE;
    }
    segs = json_obj(json_node_get_object(root), "segments");
    seg0 = json_obj(segs, "0");
    if (!seg0 || json_object_get_size(segs) != 1) {
        sp_insp_violation(ctx, "luks-header");
        return TRUE;
    }
    if (!json_u64(seg0, "offset", &offset)) {
        sp_insp_violation(ctx, "luks-header");
        return TRUE;
    }
    if (offset > ctx->file_size) {
        sp_insp_violation(ctx, "luks-payload-beyond-eof");
        return TRUE;
    }
    size_str = json_str(seg0, "size");
    if (size_str && strcmp(size_str, "dynamic") == 0) {
        ctx->virtual_size = ctx->file_size - offset;
    } else if (json_u64(seg0, "size", &size)) {
        if (size > ctx->file_size - offset)
            sp_insp_violation(ctx, "luks-payload-beyond-eof");
        ctx->virtual_size = size;
    } else {
        sp_insp_violation(ctx, "luks-header");
    }
    return TRUE;
}

gboolean
sp_insp_check_luks(SpInspCtx *ctx, GError **error)
{
    guint16 version;

    if (ctx->head_len < 8) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    version = sp_be16(ctx->head + 6);
    if (version < 1 || version > 31 ||
        !(ctx->policy->luks_versions & (1u << version)))
        sp_insp_violation(ctx, "luks-version");
    if (version == 1)
        check_luks1(ctx);
    else if (version == 2)
        return check_luks2(ctx, error);
    return TRUE;
}
