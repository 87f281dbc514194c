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
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    gboolean shrink = FALSE;
    gboolean allocate = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpSecret) secret = NULL;
    g_autoptr(SpVolume) vol = NULL;
    guint64 capacity = 0;
    int rc;
    GOptionEntry entries[] = {
        {"shrink", 0, 0, G_OPTION_ARG_NONE, &shrink,
         N_("Allow making the volume smaller (data past the end is lost)"),
         NULL},
        {"allocate", 0, 0, G_OPTION_ARG_NONE, &allocate,
         N_("Allocate the whole new size (raw volumes only)"), NULL},
        {NULL},
    };

    if (!sp_cmd_vol_parse(cli, "vol-resize", "NAME CAPACITY",
                          _("Resize a volume. CAPACITY is in bytes or has a "
                            "K/M/G/T suffix (powers of 1024)."),
                          entries, 2, &po, &argc, &argv, &rc))
        return rc;
    if (!sp_parse_size(argv[2], &capacity, &error))
        return sp_cli_usage(cli, "vol-resize", _("capacity '%s': %s"), argv[2],
                            error->message);
    if (!sp_cmd_open_target(cli, "vol-resize", &po, &t, &rc))
        return rc;
#ifdef SP_HAVE_RBD
    if (t.rbd && allocate)
        return sp_cli_usage(cli, "vol-resize",
                            _("--allocate is for dir pools (RBD images are "
                              "thin)"));
    if (t.rbd && !sp_rbd_resize(t.rbd, argv[1], capacity, shrink, &error))
        return sp_cli_fail(cli, error);
#endif
    if (t.dir) {
        vol = sp_pool_lookup(t.dir, argv[1], &error);
        if (!vol)
            return sp_cli_fail(cli, error);
        if (vol->encryption.enabled && !po.secret_file && po.secret_fd < 0)
            return sp_cli_usage(
                cli, "vol-resize",
                _("volume '%s' is encrypted: --secret-file FILE is required"),
                argv[1]);
        secret = sp_cmd_load_secret(cli, &po, &rc);
        if (rc)
            return rc;
        if (!sp_pool_resize(t.dir, argv[1], capacity,
                            (shrink ? SP_RESIZE_SHRINK : 0) |
                                (allocate ? SP_RESIZE_ALLOCATE : 0),
                            secret, &error))
            return sp_cli_fail(cli, error);
    }
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sp_json_str(b, "volume", argv[1]);
        sp_json_int(b, "capacity", (gint64)capacity);
        json_builder_end_object(b);
        sp_cli_print_builder(b);
    }
    return 0;
}

int
sp_cmd_vol_delete(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autoptr(GError) error = NULL;
    gboolean flatten = FALSE, snaps = FALSE;
    int rc;
    GOptionEntry entries[] = {
        {"flatten-clones", 0, 0, G_OPTION_ARG_NONE, &flatten,
         N_("rbd pools: flatten the volume's clones first"), NULL},
        {"delete-snapshots", 0, 0, G_OPTION_ARG_NONE, &snaps,
         N_("rbd pools: also remove snapshots safepool did not make"), NULL},
        {NULL},
    };

    if (!sp_cmd_vol_parse(
            cli, "vol-delete", "NAME",
            _("Delete a volume (refused while another volume uses "
              "it as its backing store, or while an RBD image is "
              "open anywhere or has clones)."),
            entries, 1, &po, &argc, &argv, &rc) ||
        !sp_cmd_open_target(cli, "vol-delete", &po, &t, &rc))
        return rc;
#ifdef SP_HAVE_RBD
    if (t.rbd && !sp_rbd_delete(t.rbd, argv[1],
                                (flatten ? SP_RBD_DELETE_FLATTEN_CHILDREN : 0) |
                                    (snaps ? SP_RBD_DELETE_SNAPSHOTS : 0),
                                &error))
        return sp_cli_fail(cli, error);
#endif
    if (t.dir && (flatten || snaps))
        return sp_cli_usage(cli, "vol-delete",
                            _("--flatten-clones and --delete-snapshots are for "
                              "rbd pools"));
    if (t.dir && !sp_pool_delete(t.dir, argv[1], &error))
        return sp_cli_fail(cli, error);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sp_json_str(b, "volume", argv[1]);
        sp_json_bool(b, "deleted", TRUE);
        json_builder_end_object(b);
        sp_cli_print_builder(b);
    }
    return 0;
}

static void
add_info(JsonBuilder *b, const SpPool *pool, const SpVolInfo *i)
{
    g_autofree char *path = g_build_filename(sp_pool_path(pool), i->name, NULL);

    json_builder_begin_object(b);
    sp_json_str(b, "name", i->name);
    sp_json_str(b, "path", path);
    sp_json_str(b, "format", sp_format_to_string(i->format));
    sp_json_bool(b, "encrypted", i->encrypted);
    sp_json_int(b, "capacity", (gint64)i->capacity);
    sp_json_int(b, "allocation", (gint64)i->allocation);
    json_builder_set_member_name(b, "backing");
    if (i->backing_path) {
        json_builder_begin_object(b);
        sp_json_str(b, "path", i->backing_path);
        sp_json_str(b, "format", sp_format_to_string(i->backing_format));
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
}

void
sp_cmd_list_row(const char *name, const char *format, guint64 capacity,
                guint64 allocation, gboolean bytes)
{
    g_autofree char *cap = NULL, *alloc = NULL;

    if (!name) {
        printf("%-32s %-10s %20s %20s\n", _("Name"), _("Format"), _("Capacity"),
               _("Allocation"));
        return;
    }
    cap = bytes ? g_strdup_printf("%" PRIu64, capacity) : sp_cli_size(capacity);
    alloc = bytes ? g_strdup_printf("%" PRIu64, allocation)
                  : sp_cli_size(allocation);
    printf("%-32s %-10s %20s %20s\n", name, format, cap, alloc);
}

int
sp_cmd_vol_list(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) vols = NULL;
    gboolean bytes = FALSE;
    SpPool *pool;
    int rc;
    GOptionEntry entries[] = {
        {"bytes", 0, 0, G_OPTION_ARG_NONE, &bytes,
         N_("Sizes in bytes (default: as virsh, e.g. 4.00 GiB)"), NULL},
        {NULL},
    };

    if (!sp_cmd_vol_parse(cli, "vol-list", "",
                          _("List name, format, capacity and allocation of "
                            "each volume (--json: exact bytes)."),
                          entries, 0, &po, &argc, &argv, &rc) ||
        !sp_cmd_open_target(cli, "vol-list", &po, &t, &rc))
        return rc;
    if (t.rbd)
        return sp_cmd_rbd_list(cli, &t, bytes);
    pool = t.dir;
    vols = sp_pool_list(pool, &error);
    if (!vols)
        return sp_cli_fail(cli, error);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < vols->len; i++)
            add_info(b, pool, g_ptr_array_index(vols, i));
        json_builder_end_array(b);
        sp_cli_print_builder(b);
        return 0;
    }
    sp_cmd_list_row(NULL, NULL, 0, 0, bytes);
    for (guint i = 0; i < vols->len; i++) {
        const SpVolInfo *v = g_ptr_array_index(vols, i);
        g_autofree char *fmt =
            g_strdup_printf("%s%s", sp_format_to_string(v->format),
                            v->encrypted ? "+luks" : "");

        sp_cmd_list_row(v->name, fmt, v->capacity, v->allocation, bytes);
    }
    return 0;
}

int
sp_cmd_vol_dumpxml(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autoptr(GError) error = NULL;
    SpPool *pool;
    g_autoptr(SpVolume) vol = NULL;
    g_autofree char *path = NULL;
    g_autofree char *xml = NULL;
    int rc;

    if (!sp_cmd_vol_parse(
            cli, "vol-dumpxml", "NAME",
            _("Print a volume as libvirt volume XML (its recorded "
              "definition and current size)."),
            NULL, 1, &po, &argc, &argv, &rc) ||
        !sp_cmd_open_target(cli, "vol-dumpxml", &po, &t, &rc))
        return rc;
    if (t.rbd)
        return sp_cmd_rbd_dumpxml(cli, &t, argv[1]);
    pool = t.dir;
    vol = sp_pool_lookup(pool, argv[1], &error);
    if (!vol)
        return sp_cli_fail(cli, error);
    path = g_build_filename(sp_pool_path(pool), argv[1], NULL);
    xml = sp_volume_to_xml(vol, path);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sp_json_str(b, "volume", argv[1]);
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

int
sp_cmd_vol_adopt(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autofree char *format = NULL;
    g_autoptr(GError) error = NULL;
    SpFormat f;
    int rc;
    GOptionEntry entries[] = {
        {"format", 0, 0, G_OPTION_ARG_STRING, &format,
         N_("The format the file is (required; it is inspected as that)"),
         N_("FORMAT")},
        {NULL},
    };

    if (!sp_cmd_vol_parse(cli, "vol-adopt", "NAME",
                          _("Record a format for a file copied into the pool "
                            "by hand, after inspecting it as that format (a "
                            "file with no record is never used or shown as "
                            "any format)."),
                          entries, 1, &po, &argc, &argv, &rc))
        return rc;
    if (!format)
        return sp_cli_usage(cli, "vol-adopt", _("--format FORMAT is required"));
    f = sp_format_from_string(format);
    if (f == SP_FORMAT_UNKNOWN)
        return sp_cli_usage(cli, "vol-adopt",
                            _("--format '%s': unknown format"), format);
    if (!sp_cmd_open_target(cli, "vol-adopt", &po, &t, &rc))
        return rc;
#ifdef SP_HAVE_RBD
    if (t.rbd) {
        g_autofree char *path = sp_cmd_rbd_path(&t, argv[1]);

        if (!sp_rbd_adopt(t.rbd, argv[1], f, &error))
            return sp_cli_fail(cli, error);
        sp_cmd_print_volume_path(cli, argv[1], path);
        return 0;
    }
#endif
    if (!sp_pool_adopt(t.dir, argv[1], f, &error))
        return sp_cli_fail(cli, error);
    {
        g_autofree char *path =
            g_build_filename(sp_pool_path(t.dir), argv[1], NULL);
        sp_cmd_print_volume_path(cli, argv[1], path);
    }
    return 0;
}
