/* `safepool vtpm SUBCOMMAND`: vTPM state directories (list, create, save,
 * restore, verify, relabel, delete), with the domain read from a file or
 * from libvirt through its public API. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conf/sp-uuid.h"
#include "tools/cmd-vtpm.h"

static void
vtpm_opts_clear(VtpmOpts *o)
{
    g_free(o->root);
    g_free(o->uuid);
    g_free(o->domain_xml);
    g_free(o->connect);
    g_free(o->domain);
    g_free(o->output);
    g_free(o->input);
    g_free(o->to_volume);
    g_free(o->from_volume);
    g_free(o->key_file);
    g_free(o->passphrase_file);
    g_free(o->secret);
}

/* The spec a state must meet: uuid from --uuid or the domain, owner from
 * the policy, label = the domain's SELinux imagelabel (when it has one). */
static gboolean
fill_spec(SpCli *cli, const VtpmOpts *o, const SpDomainInfo *dom,
          gboolean need_uuid, SpVtpmSpec *spec, GError **error)
{
    const SpPolicy *policy = sp_cli_policy(cli, error);

    if (!policy || !sp_policy_swtpm_ids(policy, &spec->uid, &spec->gid, error))
        return FALSE;
    if (o->uuid) {
        spec->uuid = sp_uuid_normalize(o->uuid, error);
        if (!spec->uuid)
            return FALSE;
    }
    if (dom) {
        if (spec->uuid && strcmp(spec->uuid, dom->uuid) != 0) {
            g_set_error(error, SP_ERROR, SP_ERROR_USAGE,
                        _("--uuid %s: the domain's uuid is %s"), spec->uuid,
                        dom->uuid);
            return FALSE;
        }
        g_free(spec->uuid);
        spec->uuid = g_strdup(dom->uuid);
        spec->name = g_strdup(dom->name);
        if (dom->has_tpm_emulator)
            spec->tpm_dir = g_strdup(sp_vtpm_dir_for_version(dom->tpm_version));
        if (g_strcmp0(dom->selinux_type, "none") != 0)
            spec->label = g_strdup(dom->selinux_imagelabel);
    }
    if (need_uuid && !spec->uuid) {
        g_set_error(error, SP_ERROR, SP_ERROR_USAGE,
                    _("which state: give --uuid, --domain-xml or --connect "
                      "with --domain"));
        return FALSE;
    }
    return TRUE;
}

static void
print_notices(SpVtpmRoot *root)
{
    for (guint i = 0; root && i < root->notices->len; i++)
        fprintf(stderr, "safepool: notice: %s\n",
                (const char *)g_ptr_array_index(root->notices, i));
}

/* ---- list ---- */

static int
do_list(SpCli *cli, SpVtpmRoot *root, VtpmDomain *vd, const SpVtpmSpec *base,
        GError **error)
{
    g_autoptr(GPtrArray) states = sp_vtpm_list(root, error);
    g_autoptr(JsonBuilder) b = json_builder_new();

    if (!states)
        return -1;
    json_builder_begin_object(b);
    sp_json_str(b, "root", root->path);
    json_builder_set_member_name(b, "states");
    json_builder_begin_array(b);
    for (guint i = 0; i < states->len; i++) {
        SpVtpmListEntry *e = g_ptr_array_index(states, i);
        g_autoptr(SpDomainInfo) info = NULL;
        const SpDomainInfo *dom = vd->dom;
        SpVtpmSpec spec = {.uid = base->uid, .gid = base->gid};
        g_autoptr(GPtrArray) diffs = NULL;
        g_autofree char *mode = g_strdup_printf("%04o", e->mode);
        gboolean match;

        if (base->uuid && strcmp(base->uuid, e->uuid) != 0)
            continue;
        if (vd->conn && (!dom || strcmp(dom->uuid, e->uuid) != 0)) {
            info = sp_vtpm_domain_by_uuid(vd, e->uuid, NULL);
            dom = info;
        } else if (dom && strcmp(dom->uuid, e->uuid) != 0) {
            dom = NULL;
        }
        spec.uuid = e->uuid;
        spec.tpm_dir = e->tpm_dir;
        spec.label = dom && g_strcmp0(dom->selinux_type, "none") != 0
                         ? dom->selinux_imagelabel
                         : NULL;
        diffs = e->tpm_dir ? sp_vtpm_check(root, &spec, FALSE, NULL) : NULL;
        match = diffs && diffs->len == 0;
        if (cli->json) {
            json_builder_begin_object(b);
            sp_json_str(b, "uuid", e->uuid);
            sp_json_str(b, "name", dom ? dom->name : NULL);
            sp_json_str(b, "tpm_dir", e->tpm_dir);
            sp_json_int(b, "size", (gint64)e->size);
            sp_json_int(b, "uid", e->uid);
            sp_json_int(b, "gid", e->gid);
            sp_json_str(b, "mode", mode);
            sp_json_str(b, "label", e->label);
            sp_json_str(b, "domain_label", spec.label);
            sp_json_bool(b, "matches_policy", match);
            json_builder_end_object(b);
        } else {
            printf("%s  %s  %s  %" PRIu64 "  %u:%u  %s  %s  %s\n", e->uuid,
                   dom && dom->name ? dom->name : "-",
                   e->tpm_dir ? e->tpm_dir : "-", e->size, e->uid, e->gid, mode,
                   e->label ? e->label : "-", match ? "ok" : "differs");
        }
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    if (cli->json)
        sp_cli_print_builder(b);
    return 0;
}

/* ---- verify / relabel ---- */

static int
do_check(SpCli *cli, SpVtpmRoot *root, SpVtpmSpec *spec, gboolean fix,
         GError **error)
{
    g_autoptr(GPtrArray) diffs = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    guint left = 0;

    if (!spec->tpm_dir) {
        spec->tpm_dir = sp_vtpm_find_tpm_dir(root, spec->uuid, NULL, error);
        if (!spec->tpm_dir)
            return -1;
    }
    diffs = sp_vtpm_check(root, spec, fix, error);
    if (!diffs)
        return -1;
    json_builder_begin_object(b);
    sp_json_str(b, "uuid", spec->uuid);
    json_builder_set_member_name(b, "differences");
    json_builder_begin_array(b);
    for (guint i = 0; i < diffs->len; i++) {
        SpVtpmDiff *d = g_ptr_array_index(diffs, i);

        left += !d->fixed;
        json_builder_begin_object(b);
        sp_json_str(b, "path", d->path);
        sp_json_str(b, "field", d->field);
        sp_json_str(b, "expected", d->expected);
        sp_json_str(b, "actual", d->actual);
        sp_json_bool(b, "fixed", d->fixed);
        json_builder_end_object(b);
        if (!cli->json)
            printf("%s: %s is %s, expected %s%s\n", d->path, d->field,
                   d->actual, d->expected, d->fixed ? " (fixed)" : "");
    }
    json_builder_end_array(b);
    sp_json_bool(b, "ok", left == 0);
    json_builder_end_object(b);
    if (cli->json)
        sp_cli_print_builder(b);
    if (left > 0) {
        fprintf(stderr, "safepool: vTPM state '%s': %u difference%s%s\n",
                spec->uuid, left, left == 1 ? "" : "s",
                fix ? _(" left (never followed or changed)") : "");
        return 1;
    }
    return 0;
}

/* ---- create, save, restore, delete ---- */

/* With --connect and --uuid only, ask libvirt about the domain anyway:
 * whether it runs decides delete and restore. */
static void
vtpm_lookup_by_uuid(VtpmCtx *c)
{
    if (!c->vd->conn || c->vd->dom || !c->spec->uuid)
        return;
    c->vd->dom = sp_vtpm_domain_by_uuid(c->vd, c->spec->uuid, &c->vd->active);
}

gboolean
sp_vtpm_cli_refuse_running(VtpmCtx *c, GError **error)
{
    if (c->vd->conn && c->vd->dom && c->vd->active) {
        g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                    _("vTPM state '%s': domain '%s' is running"), c->spec->uuid,
                    c->vd->dom->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_vtpm_cli_find_dir(VtpmCtx *c, GError **error)
{
    if (!c->spec->tpm_dir)
        c->spec->tpm_dir =
            sp_vtpm_find_tpm_dir(c->root, c->spec->uuid, NULL, error);
    return c->spec->tpm_dir != NULL;
}

static gboolean
vtpm_do_create(VtpmCtx *c, GError **error)
{
    if (c->vd->dom && !c->vd->dom->has_tpm_emulator) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("domain '%s': has no emulated TPM"),
                    c->vd->dom->name ? c->vd->dom->name : c->vd->dom->uuid);
        return FALSE;
    }
    if (!c->spec->tpm_dir)
        c->spec->tpm_dir = g_strdup("tpm2");
    return sp_vtpm_create(c->root, c->spec, error);
}

static gboolean
vtpm_do_delete(VtpmCtx *c, GError **error)
{
    if (!sp_vtpm_cli_refuse_running(c, error))
        return FALSE;
    if (!c->vd->conn && !c->o->force) {
        g_set_error(error, SP_ERROR, SP_ERROR_USAGE,
                    _("vTPM state '%s': cannot tell whether its domain "
                      "runs; give --connect URI --domain, or --force"),
                    c->spec->uuid);
        return FALSE;
    }
    return sp_vtpm_cli_find_dir(c, error) &&
           sp_vtpm_check_not_running(c->root, c->spec->uuid, c->spec->tpm_dir,
                                     error) &&
           sp_vtpm_delete(c->root, c->spec->uuid, error);
}

/* The one report of create/save/restore/delete. */
static void
vtpm_report(VtpmCtx *c, const char *sub)
{
    gboolean deleted = g_str_equal(sub, "delete");

    if (c->cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        sp_json_str(b, "uuid", c->spec->uuid);
        sp_json_str(b, "tpm_dir", c->spec->tpm_dir);
        sp_json_str(b, "root", c->root->path);
        sp_json_str(b, "archive", c->archive);
        sp_json_bool(b, "sealed", c->sealed);
        sp_json_str(b, "key_id", c->key_id);
        sp_json_str(b, "label", c->spec->label);
        json_builder_end_object(b);
        sp_cli_print_builder(b);
        return;
    }
    printf("%s %s/%s/%s%s%s\n", sub, c->root->path, c->spec->uuid,
           deleted ? "" : c->spec->tpm_dir,
           c->archive ? (g_str_equal(sub, "save") ? " -> " : " <- ") : "",
           c->archive ? c->archive : "");
}

static int
vtpm_run_simple(VtpmCtx *c, const char *sub,
                gboolean (*fn)(VtpmCtx *c, GError **error), GError **error)
{
    vtpm_lookup_by_uuid(c);
    if (!fn(c, error))
        return -1;
    vtpm_report(c, sub);
    return 0;
}

static int
vtpm_cmd_list(VtpmCtx *c, GError **error)
{
    return do_list(c->cli, c->root, c->vd, c->spec, error);
}

static int
vtpm_cmd_verify(VtpmCtx *c, GError **error)
{
    return do_check(c->cli, c->root, c->spec, FALSE, error);
}

static int
vtpm_cmd_relabel(VtpmCtx *c, GError **error)
{
    return do_check(c->cli, c->root, c->spec, TRUE, error);
}

static int
vtpm_cmd_create(VtpmCtx *c, GError **error)
{
    return vtpm_run_simple(c, "create", vtpm_do_create, error);
}

static int
vtpm_cmd_save(VtpmCtx *c, GError **error)
{
    return vtpm_run_simple(c, "save", sp_vtpm_cli_save, error);
}

static int
vtpm_cmd_restore(VtpmCtx *c, GError **error)
{
    return vtpm_run_simple(c, "restore", sp_vtpm_cli_restore, error);
}

static int
vtpm_cmd_delete(VtpmCtx *c, GError **error)
{
    return vtpm_run_simple(c, "delete", vtpm_do_delete, error);
}

typedef enum {
    VTPM_NEEDS_UUID = 1 << 0, /* which state: --uuid or a domain */
    VTPM_MAKES = 1 << 1,      /* may create the root */
    VTPM_READS = 1 << 2,      /* works on a read-only root, unlocked */
    VTPM_COPIES = 1 << 3,     /* --progress / --no-progress (a volume's
                                 stream through libvirt) */
} VtpmFlags;

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(VtpmCtx *c, GError **error);
    VtpmFlags flags;
    /* before the root is opened */
    gboolean (*prepare)(VtpmCtx *c, GError **error);
} VtpmCommand;

static const VtpmCommand vtpm_commands[] = {
    {"list", N_("List the states under the root"), vtpm_cmd_list, VTPM_READS},
    {"create", N_("Create a state directory with owner, mode and label"),
     vtpm_cmd_create, VTPM_NEEDS_UUID | VTPM_MAKES},
    {"save",
     N_("Save a state to a new sealed archive (--output FILE or "
        "--to-volume POOL/NAME)"),
     vtpm_cmd_save, VTPM_NEEDS_UUID | VTPM_COPIES, sp_vtpm_cli_prepare_save},
    {"restore",
     N_("Restore a state from an archive (--input FILE or "
        "--from-volume POOL/NAME)"),
     vtpm_cmd_restore, VTPM_MAKES | VTPM_COPIES, sp_vtpm_cli_prepare_restore},
    {"verify", N_("Report owner, mode and label differences (exit 1)"),
     vtpm_cmd_verify, VTPM_NEEDS_UUID | VTPM_READS},
    {"relabel", N_("Fix the differences verify reports"), vtpm_cmd_relabel,
     VTPM_NEEDS_UUID},
    {"delete", N_("Delete a state (refused while its domain runs)"),
     vtpm_cmd_delete, VTPM_NEEDS_UUID},
};

static int
vtpm_usage(SpCli *cli)
{
    g_autoptr(GString) s = g_string_new(_("a subcommand is needed:"));

    for (gsize i = 0; i < G_N_ELEMENTS(vtpm_commands); i++)
        g_string_append_printf(s, " %s", vtpm_commands[i].name);
    return sp_cli_usage(cli, "vtpm", "%s", s->str);
}

static void
vtpm_help(void)
{
    printf("%s", _("Usage:\n  safepool vtpm SUBCOMMAND [OPTION…]\n\n"
                   "Subcommands:\n"));
    for (gsize i = 0; i < G_N_ELEMENTS(vtpm_commands); i++)
        printf("  %-9s %s\n", vtpm_commands[i].name,
               _(vtpm_commands[i].summary));
    printf("%s", _("\nRun 'safepool vtpm SUBCOMMAND --help' for its "
                   "options.\n"));
}

/* Usage errors of option combinations; 0 when fine. */
static int
vtpm_check_usage(SpCli *cli, const VtpmCommand *cmd, const char *command,
                 const VtpmOpts *o, int argc, char **argv)
{
    const char *why;

    if (argc > 1)
        return sp_cli_usage(cli, command, _("unexpected argument '%s'"),
                            argv[1]);
    if (o->domain && !o->connect)
        return sp_cli_usage(cli, command, _("--domain needs --connect"));
    /* --connect names where the volume or secret is; the domain may then
     * come from a file (its host may be another). */
    if (o->domain_xml && o->connect && !sp_vtpm_cli_needs_rw(o))
        return sp_cli_usage(cli, command,
                            _("give --domain-xml or --connect, not both"));
    if ((why = sp_vtpm_cli_archive_usage(cmd->name, o)))
        return sp_cli_usage(cli, command, "%s", why);
    return 0;
}

static void
vtpm_ctx_clear(VtpmCtx *c)
{
    sp_vtpm_key_free(c->key);
    sp_secret_free(c->tar);
    g_free(c->key_id);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtpmCtx, vtpm_ctx_clear)

/* The domain, the spec and the root; then the subcommand. */
static int
vtpm_run(SpCli *cli, const VtpmCommand *cmd, const VtpmOpts *o, VtpmDomain *vd,
         GError **error)
{
    g_auto(SpVtpmSpec) spec = {0};
    g_autoptr(SpVtpmRoot) root = NULL;
    g_auto(VtpmCtx) c = {cli, o, vd, NULL, &spec, NULL, NULL};
    int rc;

    if (!sp_vtpm_domain_open(vd, o->domain_xml, o->connect, o->domain,
                             sp_vtpm_cli_needs_rw(o), error) ||
        !fill_spec(cli, o, vd->dom, cmd->flags & VTPM_NEEDS_UUID, &spec,
                   error) ||
        !(c.policy = sp_cli_policy(cli, error)) ||
        (cmd->prepare && !cmd->prepare(&c, error)))
        return -1;
    root = sp_vtpm_root_open(o->root ? o->root : c.policy->vtpm_root,
                             cmd->flags & VTPM_MAKES, cmd->flags & VTPM_READS,
                             error);
    if (!root)
        return -1;
    c.root = root;
    rc = cmd->run(&c, error);
    print_notices(root);
    return rc;
}

int
sp_cmd_vtpm(SpCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *command = NULL;
    const char *sub = argc > 1 ? argv[1] : NULL;
    const VtpmCommand *cmd = NULL;
    VtpmOpts o = {.key_fd = -1, .passphrase_fd = -1};
    VtpmDomain vd = {0};
    int rc;
    GOptionEntry entries[] = {
        {"root", 0, 0, G_OPTION_ARG_FILENAME, &o.root,
         N_("State root (default: the policy's [vtpm] root)"), "DIR"},
        {"uuid", 0, 0, G_OPTION_ARG_STRING, &o.uuid, N_("Domain uuid"), "UUID"},
        {"domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &o.domain_xml,
         N_("Domain XML file (uuid, TPM version, labels)"), "FILE"},
        {"connect", 0, 0, G_OPTION_ARG_STRING, &o.connect,
         N_("libvirt URI to read the domain from"), "URI"},
        {"domain", 0, 0, G_OPTION_ARG_STRING, &o.domain,
         N_("Domain name or uuid (with --connect)"), "NAME|UUID"},
        {"output", 0, 0, G_OPTION_ARG_FILENAME, &o.output,
         N_("save: archive to create (never overwritten)"), "ARCHIVE"},
        {"input", 0, 0, G_OPTION_ARG_FILENAME, &o.input,
         N_("restore: archive to read"), "ARCHIVE"},
        {"to-volume", 0, 0, G_OPTION_ARG_STRING, &o.to_volume,
         N_("save: new volume of the daemon at --connect, streamed into"),
         "POOL/NAME"},
        {"from-volume", 0, 0, G_OPTION_ARG_STRING, &o.from_volume,
         N_("restore: volume of the daemon at --connect to stream from; "
            "wiped and deleted after the restore"),
         "POOL/NAME"},
        {"keep-volume", 0, 0, G_OPTION_ARG_NONE, &o.keep_volume,
         N_("restore: keep the --from-volume volume"), NULL},
        {"key-file", 0, 0, G_OPTION_ARG_FILENAME, &o.key_file,
         N_("32-byte key in a regular file"), "FILE"},
        {"key-fd", 0, 0, G_OPTION_ARG_INT, &o.key_fd,
         N_("32-byte key read from an open fd"), "N"},
        {"passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &o.passphrase_file,
         N_("passphrase (Argon2id) in a regular file"), "FILE"},
        {"passphrase-fd", 0, 0, G_OPTION_ARG_INT, &o.passphrase_fd,
         N_("passphrase (Argon2id) read from an open fd"), "N"},
        {"secret", 0, 0, G_OPTION_ARG_STRING, &o.secret,
         N_("32-byte key: the value of this libvirt secret at --connect"),
         "UUID"},
        {"no-encrypt", 0, 0, G_OPTION_ARG_NONE, &o.no_encrypt,
         N_("save: write a plain archive (if the policy allows)"), NULL},
        {"allow-plain", 0, 0, G_OPTION_ARG_NONE, &o.allow_plain,
         N_("restore: accept a plain archive (if the policy allows)"), NULL},
        {"force", 0, 0, G_OPTION_ARG_NONE, &o.force,
         N_("delete: without asking libvirt whether the domain runs"), NULL},
        {NULL},
    };

    if (sub && (g_str_equal(sub, "--help") || g_str_equal(sub, "-h"))) {
        vtpm_help();
        return 0;
    }
    for (gsize i = 0; sub && i < G_N_ELEMENTS(vtpm_commands); i++)
        if (g_str_equal(sub, vtpm_commands[i].name))
            cmd = &vtpm_commands[i];
    if (!cmd)
        return vtpm_usage(cli);
    command = g_strdup_printf("vtpm %s", sub);
    argc--;
    argv++;
    cli->progress_options = (cmd->flags & VTPM_COPIES) != 0;
    if (!sp_cli_parse(cli, command, "", _(cmd->summary), entries, &argc, &argv,
                      &rc) ||
        (rc = vtpm_check_usage(cli, cmd, command, &o, argc, argv)) != 0) {
        vtpm_opts_clear(&o);
        return rc;
    }
    rc = vtpm_run(cli, cmd, &o, &vd, &error);
    if (rc < 0)
        rc = sp_cli_fail(cli, error);
    sp_vtpm_domain_clear(&vd);
    vtpm_opts_clear(&o);
    return rc;
}
