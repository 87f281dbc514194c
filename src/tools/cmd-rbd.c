/* The rbd halves of vol-list and vol-dumpxml: the identity recorded in
 * each image's metadata, its size and its real allocation. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools/cmd-vol.h"

#ifdef SP_HAVE_RBD
static void
add_info(JsonBuilder *b, const SpCmdTarget *t, const SpRbdVolInfo *i)
{
    g_autofree char *path = sp_cmd_rbd_path(t, i->name);
    g_autofree char *features = sp_rbd_features_to_string(i->features);

    json_builder_begin_object(b);
    sp_json_str(b, "name", i->name);
    sp_json_str(b, "path", path);
    sp_json_str(b, "format", sp_format_to_string(i->format));
    sp_json_bool(b, "encrypted", FALSE);
    sp_json_int(b, "capacity", (gint64)i->capacity);
    sp_json_int(b, "allocation", (gint64)i->allocation);
    sp_json_str(b, "features", features);
    sp_json_str(b, "parent", i->parent);
    json_builder_end_object(b);
}

int
sp_cmd_rbd_list(SpCli *cli, SpCmdTarget *t, gboolean bytes)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) vols = sp_rbd_list(t->rbd, &error);

    if (!vols)
        return sp_cli_fail(cli, error);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_array(b);
        for (guint i = 0; i < vols->len; i++)
            add_info(b, t, g_ptr_array_index(vols, i));
        json_builder_end_array(b);
        sp_cli_print_builder(b);
        return 0;
    }
    sp_cmd_list_row(NULL, NULL, 0, 0, bytes);
    for (guint i = 0; i < vols->len; i++) {
        const SpRbdVolInfo *v = g_ptr_array_index(vols, i);

        sp_cmd_list_row(v->name, sp_format_to_string(v->format), v->capacity,
                        v->allocation, bytes);
    }
    return 0;
}

int
sp_cmd_rbd_dumpxml(SpCli *cli, SpCmdTarget *t, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) vol = sp_rbd_lookup(t->rbd, name, &error);
    g_autofree char *path = NULL;
    g_autofree char *xml = NULL;

    if (!vol)
        return sp_cli_fail(cli, error);
    path = sp_cmd_rbd_path(t, name);
    xml = sp_volume_to_xml_type(vol, path, "network");
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        sp_json_str(b, "volume", name);
        sp_json_str(b, "path", path);
        sp_json_str(b, "xml", xml);
        json_builder_end_object(b);
        sp_cli_print_builder(b);
    } else {
        fputs(xml, stdout);
        if (*xml && xml[strlen(xml) - 1] != '\n')
            putchar('\n');
    }
    return 0;
}
#else
int
sp_cmd_rbd_list(SpCli *cli, SpCmdTarget *t, gboolean bytes)
{
    return 3;
}

int
sp_cmd_rbd_dumpxml(SpCli *cli, SpCmdTarget *t, const char *name)
{
    return 3;
}
#endif
