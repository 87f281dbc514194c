/* safepool validate / plan / vol-create: volume XML in, checked, planned or
 * built in a directory pool (interface.md). */
#include "tools/cmd-vol.h"

#include <stdio.h>
#include <string.h>

#include "conf/sp-volume.h"
#include "image/sp-plan.h"
#include "image/sp-pool.h"
#include "conf/sp-pool-xml.h"
#include "util/sp-secret.h"

void
sp_cmd_pool_opts_clear(SpCmdPoolOpts *po)
{
    g_clear_pointer(&po->pool_dir, g_free);
    g_clear_pointer(&po->pool_xml, g_free);
    g_clear_pointer(&po->secret_file, g_free);
    po->secret_fd = -1;
}

void
sp_cmd_target_clear(SpCmdTarget *t)
{
    g_clear_pointer(&t->dir, sp_pool_free);
#ifdef SP_HAVE_RBD
    g_clear_pointer(&t->rbd, sp_rbd_pool_free);
    g_clear_pointer(&t->src, sp_rbd_source_free);
#endif
    g_clear_pointer(&t->key, sp_secret_free);
}

gboolean
sp_cmd_vol_parse(SpCli *cli, const char *command, const char *params,
                 const char *summary, const GOptionEntry *extra, guint n_args,
                 SpCmdPoolOpts *po, int *argc, char ***argv, int *exit_code)
{
    g_autoptr(GArray) entries = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
    GOptionEntry common[] = {
        {"pool-dir", 0, 0, G_OPTION_ARG_FILENAME, &po->pool_dir,
         N_("Pool directory"), "DIR"},
        {"pool-xml", 0, 0, G_OPTION_ARG_FILENAME, &po->pool_xml,
         N_("The pool as libvirt pool XML (a dir or rbd pool)"), "FILE"},
        {"secret-file", 0, 0, G_OPTION_ARG_FILENAME, &po->secret_file,
         N_("LUKS passphrase (dir pools) or cephx key (rbd pools)"), "FILE"},
        {"secret-fd", 0, 0, G_OPTION_ARG_INT, &po->secret_fd,
         N_("The same, read from inherited file descriptor N"), "N"},
    };

    g_array_append_vals(entries, common, G_N_ELEMENTS(common));
    for (; extra && extra->long_name; extra++)
        g_array_append_vals(entries, extra, 1);
    if (!sp_cli_parse(cli, command, params, summary,
                      (GOptionEntry *)entries->data, argc, argv, exit_code))
        return FALSE;
    if ((guint)*argc != n_args + 1) {
        *exit_code =
            n_args == 0
                ? sp_cli_usage(cli, command, _("unexpected argument '%s'"),
                               (*argv)[1])
                : sp_cli_usage(cli, command, _("expected %s"), params);
        return FALSE;
    }
    if (!po->pool_dir == !po->pool_xml) {
        *exit_code = sp_cli_usage(cli, command,
                                  _("exactly one of --pool-dir DIR and "
                                    "--pool-xml FILE is required"));
        return FALSE;
    }
    if (po->secret_file && po->secret_fd >= 0) {
        *exit_code = sp_cli_usage(cli, command,
                                  _("--secret-file and --secret-fd exclude "
                                    "each other"));
        return FALSE;
    }
    return TRUE;
}

SpSecret *
sp_cmd_load_secret(SpCli *cli, const SpCmdPoolOpts *po, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    SpSecret *s = NULL;

    *exit_code = 0;
    if (po->secret_file)
        s = sp_secret_new_from_file(po->secret_file, &error);
    else if (po->secret_fd >= 0) {
        g_autofree char *what =
            g_strdup_printf("--secret-fd %d", po->secret_fd);

        s = sp_secret_new_from_fd(po->secret_fd, what, TRUE, &error);
    }
    if (error)
        *exit_code = sp_cli_fail(cli, error);
    return s;
}

static SpPool *
open_dir(SpCli *cli, const char *pool_dir, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *abs = NULL;
    const SpPolicy *policy;
    SpPool *pool;

    policy = sp_cli_policy(cli, &error);
    if (!policy) {
        *exit_code = sp_cli_fail(cli, error);
        return NULL;
    }
    /* Lexically absolute: symlinks are not resolved, the pool opener
     * refuses a symlinked last component itself. */
    abs = g_canonicalize_filename(pool_dir, NULL);
    pool = sp_pool_open(abs, policy, &error);
    if (!pool) {
        *exit_code = sp_cli_fail(cli, error);
        return NULL;
    }
    return pool;
}

#ifdef SP_HAVE_RBD
static gboolean
open_rbd(SpCli *cli, const char *command, const SpCmdPoolOpts *po,
         SpPoolXml *px, SpCmdTarget *t, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    const SpPolicy *policy;
    guint swept = 0;

    if (!po->secret_file && po->secret_fd < 0) {
        *exit_code = sp_cli_usage(cli, command,
                                  _("an rbd pool needs the cephx key of user "
                                    "'%s' in --secret-file FILE or "
                                    "--secret-fd N"),
                                  px->auth_user ? px->auth_user : "");
        return FALSE;
    }
    if (!(t->key = sp_cmd_load_secret(cli, po, exit_code)))
        return FALSE;
    if (!(policy = sp_cli_policy(cli, &error))) {
        *exit_code = sp_cli_fail(cli, error);
        return FALSE;
    }
    t->src = sp_rbd_source_new();
    t->src->monitors = g_strdupv(px->monitors);
    t->src->user = g_strdup(px->auth_user);
    if (!sp_rbd_source_set_name(t->src, px->source_name, &error) ||
        !(t->rbd = sp_rbd_pool_open(t->src, t->key, policy, &error)) ||
        !sp_rbd_pool_sweep(t->rbd, &swept, &error)) {
        *exit_code = sp_cli_fail(cli, error);
        return FALSE;
    }
    return TRUE;
}
#endif

gboolean
sp_cmd_open_target(SpCli *cli, const char *command, const SpCmdPoolOpts *po,
                   SpCmdTarget *t, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPoolXml) px = NULL;

    if (po->pool_dir)
        return (t->dir = open_dir(cli, po->pool_dir, exit_code)) != NULL;
    if (!(px = sp_pool_xml_parse_file(po->pool_xml, &error))) {
        *exit_code = sp_cli_fail(cli, error);
        return FALSE;
    }
    if (px->type == SP_POOL_XML_DIR)
        return (t->dir = open_dir(cli, px->target_path, exit_code)) != NULL;
#ifdef SP_HAVE_RBD
    return open_rbd(cli, command, po, px, t, exit_code);
#else
    g_set_error(&error, SP_ERROR, SP_ERROR_INVALID,
                _("rbd pools: safepool was built without librbd"));
    *exit_code = sp_cli_fail(cli, error);
    return FALSE;
#endif
}

char *
sp_cmd_rbd_path(const SpCmdTarget *t, const char *name)
{
#ifdef SP_HAVE_RBD
    return g_strdup_printf("%s/%s", sp_rbd_pool_name(t->rbd), name);
#else
    return g_strdup(name);
#endif
}

static void
add_problem_from_error(GPtrArray *problems, const GError *error)
{
    SpProblem *p = g_new0(SpProblem, 1);

    p->code = error->domain == SP_ERROR ? error->code : SP_ERROR_FAILED;
    p->element =
        g_strdup(sp_error_element(error) ? sp_error_element(error) : "volume");
    p->message = g_strdup(error->message);
    g_ptr_array_add(problems, p);
}

static void
add_problem_json(JsonBuilder *b, const SpProblem *p)
{
    g_autoptr(GError) e = NULL;

    sp_set_error_element(&e, p->code, p->element ? p->element : "volume", "%s",
                         p->message);
    sp_json_error(b, NULL, e);
}

int
sp_cmd_validate(SpCli *cli, int argc, char **argv)
{
    g_autofree char *pool_dir = NULL;
    g_autofree char *pool_abs = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) problems =
        g_ptr_array_new_with_free_func((GDestroyNotify)sp_problem_free);
    g_autoptr(SpVolume) vol = NULL;
    const SpPolicy *policy;
    int rc;
    GOptionEntry entries[] = {
        {"pool-dir", 0, 0, G_OPTION_ARG_FILENAME, &pool_dir,
         N_("Pool directory (its volumes may be backing stores)"), "DIR"},
        {NULL},
    };

    if (!sp_cli_parse(cli, "validate", "VOLUME.xml",
                      _("Check volume XML against the schema and the policy."),
                      entries, &argc, &argv, &rc))
        return rc;
    if (argc != 2)
        return sp_cli_usage(cli, "validate", _("expected one VOLUME.xml"));
    policy = sp_cli_policy(cli, &error);
    if (!policy)
        return sp_cli_fail(cli, error);
    if (pool_dir)
        pool_abs = g_canonicalize_filename(pool_dir, NULL);

    vol = sp_volume_parse_file(argv[1], &error);
    if (!vol)
        add_problem_from_error(problems, error);
    else if (!sp_volume_check_policy(vol, policy, pool_abs, problems, &error) &&
             problems->len == 0)
        add_problem_from_error(problems, error);

    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sp_json_bool(b, "valid", problems->len == 0);
        json_builder_set_member_name(b, "errors");
        json_builder_begin_array(b);
        for (guint i = 0; i < problems->len; i++)
            add_problem_json(b, g_ptr_array_index(problems, i));
        json_builder_end_array(b);
        json_builder_end_object(b);
        sp_cli_print_builder(b);
    } else if (problems->len == 0) {
        printf(_("%s: valid\n"), argv[1]);
    }
    for (guint i = 0; i < problems->len; i++) {
        const SpProblem *p = g_ptr_array_index(problems, i);
        g_autofree char *line = g_strdup(p->message);
        g_strdelimit(line, "\r\n", ' ');
        fprintf(stderr, "safepool: %s\n", line);
    }
    return problems->len == 0 ? 0 : 1;
}

int
sp_cmd_plan(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autofree char *from = NULL;
    gboolean prealloc_metadata = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) vol = NULL;
    g_autoptr(SpPlan) plan = NULL;
    g_autofree char *json = NULL;
    SpCreateArgs args = {0};
    int rc;
    GOptionEntry entries[] = {
        {"from", 0, 0, G_OPTION_ARG_STRING, &from, N_("Clone from volume NAME"),
         "NAME"},
        {"prealloc-metadata", 0, 0, G_OPTION_ARG_NONE, &prealloc_metadata,
         N_("Preallocate qcow2 metadata"), NULL},
        {NULL},
    };

    if (!sp_cmd_vol_parse(cli, "plan", "VOLUME.xml",
                          _("Print, without running anything, the operations "
                            "vol-create would run (JSON)."),
                          entries, 1, &po, &argc, &argv, &rc) ||
        !sp_cmd_open_target(cli, "plan", &po, &t, &rc))
        return rc;
    if (!t.dir)
        return sp_cli_usage(cli, "plan",
                            _("plan is for dir pools (an rbd "
                              "pool runs no program)"));
    vol = sp_volume_parse_file(argv[1], &error);
    if (!vol)
        return sp_cli_fail(cli, error);
    args.from = from;
    args.prealloc_metadata = prealloc_metadata;
    plan = sp_pool_plan_create(t.dir, vol, &args, &error);
    if (!plan)
        return sp_cli_fail(cli, error);
    json = sp_plan_to_json(plan);
    printf("%s\n", json);
    return 0;
}

/* Read a --from-secret-file (a missing file is an operation failure,
 * exit 3/1, not a usage error). */
static SpSecret *
load_secret(SpCli *cli, const char *path, int *exit_code)
{
    g_autoptr(GError) error = NULL;
    SpSecret *s = sp_secret_new_from_file(path, &error);

    if (!s)
        *exit_code = sp_cli_fail(cli, error);
    return s;
}

void
sp_cmd_print_volume_path(SpCli *cli, const char *name, const char *path)
{
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sp_json_str(b, "volume", name);
        sp_json_str(b, "path", path);
        json_builder_end_object(b);
        sp_cli_print_builder(b);
    } else {
        printf("%s\n", path);
    }
}

#ifdef SP_HAVE_RBD
static int
create_rbd(SpCli *cli, SpCmdTarget *t, const SpVolume *vol, const char *from,
           const char *features, gboolean flatten)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = sp_cmd_rbd_path(t, vol->name);
    SpRbdCreateArgs args = {from, 0, flatten};

    if (features) {
        const char *const list[] = {features, NULL};

        if (!sp_rbd_features_parse(list, &args.features, &error))
            return sp_cli_usage(cli, "vol-create", "--features: %s",
                                error->message);
    }
    if (!sp_rbd_create(t->rbd, vol, &args, &error))
        return sp_cli_fail(cli, error);
    sp_cmd_print_volume_path(cli, vol->name, path);
    return 0;
}
#endif

int
sp_cmd_vol_create(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autofree char *from = NULL;
    g_autofree char *from_secret_file = NULL;
    g_autofree char *features = NULL;
    gboolean prealloc_metadata = FALSE;
    gboolean flatten = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) vol = NULL;
    g_autoptr(SpSecret) secret = NULL;
    g_autoptr(SpSecret) from_secret = NULL;
    g_autofree char *path = NULL;
    g_autofree char *what = NULL;
    SpCliProgress meter;
    SpCreateArgs args = {0};
    int rc;
    GOptionEntry entries[] = {
        {"from", 0, 0, G_OPTION_ARG_STRING, &from, N_("Clone from volume NAME"),
         "NAME"},
        {"from-secret-file", 0, 0, G_OPTION_ARG_FILENAME, &from_secret_file,
         N_("LUKS passphrase of the source volume"), "FILE"},
        {"prealloc-metadata", 0, 0, G_OPTION_ARG_NONE, &prealloc_metadata,
         N_("Preallocate qcow2 metadata"), NULL},
        {"features", 0, 0, G_OPTION_ARG_STRING, &features,
         N_("rbd pools: the image features (a ','-separated list among the "
            "policy's features_allowed)"),
         "LIST"},
        {"flatten", 0, 0, G_OPTION_ARG_NONE, &flatten,
         N_("rbd pools: flatten the clone (a full copy)"), NULL},
        {NULL},
    };

    cli->progress_options = TRUE;
    if (!sp_cmd_vol_parse(cli, "vol-create", "VOLUME.xml",
                          _("Create a volume from libvirt volume XML (or clone "
                            "volume NAME into it) and print its path."),
                          entries, 1, &po, &argc, &argv, &rc))
        return rc;
    vol = sp_volume_parse_file(argv[1], &error);
    if (!vol)
        return sp_cli_fail(cli, error);
    if (vol->encryption.enabled && !po.secret_file && po.secret_fd < 0)
        return sp_cli_usage(
            cli, "vol-create",
            _("volume '%s' is encrypted: --secret-file FILE is required"),
            vol->name);
    if (!sp_cmd_open_target(cli, "vol-create", &po, &t, &rc))
        return rc;
#ifdef SP_HAVE_RBD
    if (t.rbd)
        return create_rbd(cli, &t, vol, from, features, flatten);
#endif
    if (features || flatten)
        return sp_cli_usage(cli, "vol-create",
                            _("--features and --flatten are for rbd pools"));
    secret = sp_cmd_load_secret(cli, &po, &rc);
    if (rc)
        return rc;
    if (from_secret_file &&
        !(from_secret = load_secret(cli, from_secret_file, &rc)))
        return rc;
    args.from = from;
    args.secret = secret;
    args.from_secret = from_secret;
    args.prealloc_metadata = prealloc_metadata;
    if (from) {
        what = g_strdup_printf("%s -> %s", from, vol->name);
        args.progress = sp_cli_progress_start(cli, &meter, what);
    }
    path = sp_pool_create(t.dir, vol, &args, &error);
    if (from)
        sp_cli_progress_end(&meter);
    if (!path)
        return sp_cli_fail(cli, error);
    sp_cmd_print_volume_path(cli, vol->name, path);
    return 0;
}
