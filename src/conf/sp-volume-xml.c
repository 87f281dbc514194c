/* SpVolume -> libvirt storage volume XML, in the shape libvirt's own
 * vol-dumpxml uses; the output parses back to an equal SpVolume. */
#include "conf/sp-volume.h"

#include <inttypes.h>

/* @pre, @value escaped as XML text/attribute, then @post. Tab, newline and
 * carriage return go out as character references too (g_markup_escape_text
 * leaves them): a parser turns a literal CR into LF, and all three into
 * spaces in an attribute, so the value would not read back the same. */
static void
append_escaped(GString *s, const char *pre, const char *value, const char *post)
{
    g_autofree char *esc = g_markup_escape_text(value, -1);

    g_string_append(s, pre);
    for (const char *c = esc; *c; c++) {
        if (*c == '\t')
            g_string_append(s, "&#9;");
        else if (*c == '\n')
            g_string_append(s, "&#10;");
        else if (*c == '\r')
            g_string_append(s, "&#13;");
        else
            g_string_append_c(s, *c);
    }
    g_string_append(s, post);
}

static void
append_encryption(GString *s, const SpEncryption *e)
{
    if (!e->enabled)
        return;
    append_escaped(s, "    <encryption format='", e->format ? e->format : "",
                   "'>\n");
    /* The struct keeps the count of secrets and the first one (the policy
     * wants exactly one): as many are written, so that the output parses
     * back to the same count and the policy refuses it alike. */
    for (guint i = 0; i < e->n_secrets; i++) {
        if (e->secret_uuid)
            append_escaped(s, "      <secret type='passphrase' uuid='",
                           e->secret_uuid, "'/>\n");
        else if (e->secret_usage)
            append_escaped(s, "      <secret type='passphrase' usage='",
                           e->secret_usage, "'/>\n");
    }
    if (e->cipher_name) {
        append_escaped(s, "      <cipher name='", e->cipher_name, "'");
        g_string_append_printf(s, " size='%u'", e->cipher_size);
        if (e->cipher_mode)
            append_escaped(s, " mode='", e->cipher_mode, "'");
        if (e->cipher_hash)
            append_escaped(s, " hash='", e->cipher_hash, "'");
        g_string_append(s, "/>\n");
    }
    if (e->ivgen_name) {
        append_escaped(s, "      <ivgen name='", e->ivgen_name, "'");
        if (e->ivgen_hash)
            append_escaped(s, " hash='", e->ivgen_hash, "'");
        g_string_append(s, "/>\n");
    }
    g_string_append(s, "    </encryption>\n");
}

char *
sp_volume_to_xml(const SpVolume *v, const char *path)
{
    return sp_volume_to_xml_type(v, path, "file");
}

char *
sp_volume_to_xml_type(const SpVolume *v, const char *path, const char *type)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "<volume type='%s'>\n", type);

    append_escaped(s, "  <name>", v->name ? v->name : "", "</name>\n");
    if (path)
        append_escaped(s, "  <key>", path, "</key>\n");
    if (v->has_capacity)
        g_string_append_printf(
            s, "  <capacity unit='bytes'>%" PRIu64 "</capacity>\n",
            v->capacity);
    if (v->has_allocation)
        g_string_append_printf(
            s, "  <allocation unit='bytes'>%" PRIu64 "</allocation>\n",
            v->allocation);

    g_string_append(s, "  <target>\n");
    if (path)
        append_escaped(s, "    <path>", path, "</path>\n");
    g_string_append_printf(s, "    <format type='%s'/>\n",
                           sp_format_to_string(v->format));
    if (v->has_mode || v->owner != -1 || v->group != -1 || v->label) {
        g_string_append(s, "    <permissions>\n");
        if (v->has_mode)
            g_string_append_printf(s, "      <mode>%04o</mode>\n", v->mode);
        if (v->owner != -1)
            g_string_append_printf(s, "      <owner>%" PRId64 "</owner>\n",
                                   v->owner);
        if (v->group != -1)
            g_string_append_printf(s, "      <group>%" PRId64 "</group>\n",
                                   v->group);
        if (v->label)
            append_escaped(s, "      <label>", v->label, "</label>\n");
        g_string_append(s, "    </permissions>\n");
    }
    if (v->compat)
        append_escaped(s, "    <compat>", v->compat, "</compat>\n");
    if (v->cluster_size)
        g_string_append_printf(
            s, "    <clusterSize unit='bytes'>%" PRIu64 "</clusterSize>\n",
            v->cluster_size);
    if (v->nocow)
        g_string_append(s, "    <nocow/>\n");
    if (v->lazy_refcounts || v->extended_l2) {
        g_string_append(s, "    <features>\n");
        if (v->lazy_refcounts)
            g_string_append(s, "      <lazy_refcounts/>\n");
        if (v->extended_l2)
            g_string_append(s, "      <extended_l2/>\n");
        g_string_append(s, "    </features>\n");
    }
    append_encryption(s, &v->encryption);
    g_string_append(s, "  </target>\n");

    if (v->backing_path) {
        g_string_append(s, "  <backingStore>\n");
        append_escaped(s, "    <path>", v->backing_path, "</path>\n");
        if (v->backing_format != SP_FORMAT_UNKNOWN)
            g_string_append_printf(s, "    <format type='%s'/>\n",
                                   sp_format_to_string(v->backing_format));
        g_string_append(s, "  </backingStore>\n");
    }
    g_string_append(s, "</volume>\n");
    return g_string_free(s, FALSE);
}
