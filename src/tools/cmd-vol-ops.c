/* safepool vol-resize / vol-delete / vol-list / vol-dumpxml on the volumes of
 * a directory pool (interface.md). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conf/sp-volume.h"
#include "tools/cmd-vol.h"
#include "util/sp-secret.h"

int
sp_cmd_vol_resize(SpCli *cli, int argc, char **argv)
{
    g_autofree char *pool_dir = NULL;
    g_autofree char *secret_file = NULL;
    gboolean shrink = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(SpSecret) secret = NULL;
    g_autoptr(SpVolume) vol = NULL;
    guint64 capacity = 0;
    int rc;
    GOptionEntry entries[] = {
        {"shrink", 0, 0, G_OPTION_ARG_NONE, &shrink,
         N_("Allow making the volume smaller (data past the end is lost)"), NULL},
        {"secret-file", 0, 0, G_OPTION_ARG_FILENAME, &secret_file,
         N_("LUKS passphrase of an encrypted volume"), "FILE"},
        {NULL},
    };

    if (!sp_cmd_vol_parse(cli, "vol-resize", "NAME CAPACITY",
                          _("Resize a volume. CAPACITY is in bytes or has a "
                            "K/M/G/T suffix (powers of 1024)."),
                          entries, 2, &pool_dir, &argc, &argv, &rc))
        return rc;
    if (!sp_parse_size(argv[2], &capacity, &error))
        return sp_cli_usage(cli, "vol-resize", _("capacity '%s': %s"), argv[2],
                            error->message);
    pool = sp_cmd_open_pool(cli, pool_dir, &rc);
    if (!pool)
        return rc;
    vol = sp_pool_lookup(pool, argv[1], &error);
    if (!vol)
        return sp_cli_fail(cli, error);
    if (vol->encryption.enabled && !secret_file)
        return sp_cli_usage(cli, "vol-resize",
                            _("volume '%s' is encrypted: --secret-file FILE is required"),
                            argv[1]);
    if (secret_file && !(secret = sp_secret_new_from_file(secret_file, &error)))
        return sp_cli_fail(cli, error);
    if (!sp_pool_resize(pool, argv[1], capacity, shrink, secret, &error))
        return sp_cli_fail(cli, error);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "volume");
        json_builder_add_string_value(b, argv[1]);
        json_builder_set_member_name(b, "capacity");
        json_builder_add_int_value(b, (gint64)capacity);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        sp_cli_print_json(root);
    }
    return 0;
}

int
sp_cmd_vol_delete(SpCli *cli, int argc, char **argv)
{
    g_autofree char *pool_dir = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPool) pool = NULL;
    int rc;

    if (!sp_cmd_vol_parse(cli, "vol-delete", "NAME",
                          _("Delete a volume (refused while another volume uses "
                            "it as its backing store)."),
                          NULL, 1, &pool_dir, &argc, &argv, &rc))
        return rc;
    pool = sp_cmd_open_pool(cli, pool_dir, &rc);
    if (!pool)
        return rc;
    if (!sp_pool_delete(pool, argv[1], &error))
        return sp_cli_fail(cli, error);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "volume");
        json_builder_add_string_value(b, argv[1]);
        json_builder_set_member_name(b, "deleted");
        json_builder_add_boolean_value(b, TRUE);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        sp_cli_print_json(root);
    }
    return 0;
}

static void
add_info(JsonBuilder *b, const SpPool *pool, const SpVolInfo *i)
{
    g_autofree char *path = g_build_filename(sp_pool_path(pool), i->name, NULL);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, i->name);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, sp_format_to_string(i->format));
    json_builder_set_member_name(b, "encrypted");
    json_builder_add_boolean_value(b, i->encrypted);
    json_builder_set_member_name(b, "capacity");
    json_builder_add_int_value(b, (gint64)i->capacity);
    json_builder_set_member_name(b, "allocation");
    json_builder_add_int_value(b, (gint64)i->allocation);
    json_builder_set_member_name(b, "backing");
    if (i->backing_path) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, i->backing_path);
        json_builder_set_member_name(b, "format");
        json_builder_add_string_value(b, sp_format_to_string(i->backing_format));
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
}

int
sp_cmd_vol_list(SpCli *cli, int argc, char **argv)
{
    g_autofree char *pool_dir = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(GPtrArray) vols = NULL;
    int rc;

    if (!sp_cmd_vol_parse(cli, "vol-list", "",
                          _("List name, format, capacity and allocation (bytes) "
                            "of each volume."),
                          NULL, 0, &pool_dir, &argc, &argv, &rc))
        return rc;
    pool = sp_cmd_open_pool(cli, pool_dir, &rc);
    if (!pool)
        return rc;
    vols = sp_pool_list(pool, &error);
    if (!vols)
        return sp_cli_fail(cli, error);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < vols->len; i++)
            add_info(b, pool, g_ptr_array_index(vols, i));
        json_builder_end_array(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        sp_cli_print_json(root);
        return 0;
    }
    printf("%-32s %-10s %20s %20s\n", _("Name"), _("Format"), _("Capacity"),
           _("Allocation"));
    for (guint i = 0; i < vols->len; i++) {
        const SpVolInfo *v = g_ptr_array_index(vols, i);
        g_autofree char *fmt = g_strdup_printf("%s%s", sp_format_to_string(v->format),
                                               v->encrypted ? "+luks" : "");
        printf("%-32s %-10s %20" PRIu64 " %20" PRIu64 "\n",
               v->name, fmt, v->capacity, v->allocation);
    }
    return 0;
}

int
sp_cmd_vol_dumpxml(SpCli *cli, int argc, char **argv)
{
    g_autofree char *pool_dir = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(SpVolume) vol = NULL;
    g_autofree char *path = NULL;
    g_autofree char *xml = NULL;
    int rc;

    if (!sp_cmd_vol_parse(cli, "vol-dumpxml", "NAME",
                          _("Print a volume as libvirt volume XML (its recorded "
                            "definition and current size)."),
                          NULL, 1, &pool_dir, &argc, &argv, &rc))
        return rc;
    pool = sp_cmd_open_pool(cli, pool_dir, &rc);
    if (!pool)
        return rc;
    vol = sp_pool_lookup(pool, argv[1], &error);
    if (!vol)
        return sp_cli_fail(cli, error);
    path = g_build_filename(sp_pool_path(pool), argv[1], NULL);
    xml = sp_volume_to_xml(vol, path);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "volume");
        json_builder_add_string_value(b, argv[1]);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, path);
        json_builder_set_member_name(b, "xml");
        json_builder_add_string_value(b, xml);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        sp_cli_print_json(root);
    } else {
        fputs(xml, stdout);
        if (*xml && xml[strlen(xml) - 1] != '\n')
            putchar('\n');
    }
    return 0;
}
