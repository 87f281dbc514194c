/* `safepool vtpm SUBCOMMAND`: vTPM state directories (list, create, save,
 * restore, verify, relabel, delete), with the domain read from a file or
 * from libvirt through its public API. */
#include "tools/sp-cli.h"

#include <inttypes.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <gmodule.h>
#include <stdio.h>
#include <string.h>

#include "conf/sp-seclabel.h"
#include "vtpm/sp-vtpm.h"

typedef struct {
    char *root;
    char *uuid;
    char *domain_xml;
    char *connect;
    char *domain;
    char *output;
    char *input;
    gboolean force;
} VtpmOpts;

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
}

/* libvirt's client library is loaded only when --connect is given: linked
 * in, it costs every safepool command ~25 ms of start-up (61 libraries). */
static struct {
    GModule *module;
    int (*ConnectClose)(virConnectPtr);
    virConnectPtr (*ConnectOpenReadOnly)(const char *);
    int (*DomainFree)(virDomainPtr);
    char *(*DomainGetXMLDesc)(virDomainPtr, unsigned int);
    int (*DomainIsActive)(virDomainPtr);
    virDomainPtr (*DomainLookupByName)(virConnectPtr, const char *);
    virDomainPtr (*DomainLookupByUUIDString)(virConnectPtr, const char *);
    virErrorPtr (*GetLastError)(void);
    void (*SetErrorFunc)(void *, virErrorFunc);
} lv;

static gboolean
libvirt_load(GError **error)
{
    static const struct {
        const char *name;
        gsize offset;
    } syms[] = {
#define SP_LV_SYM(f) {"vir" #f, G_STRUCT_OFFSET(__typeof__(lv), f)}
        SP_LV_SYM(ConnectClose), SP_LV_SYM(ConnectOpenReadOnly),
        SP_LV_SYM(DomainFree), SP_LV_SYM(DomainGetXMLDesc),
        SP_LV_SYM(DomainIsActive), SP_LV_SYM(DomainLookupByName),
        SP_LV_SYM(DomainLookupByUUIDString), SP_LV_SYM(GetLastError),
        SP_LV_SYM(SetErrorFunc),
#undef SP_LV_SYM
    };

    if (lv.module)
        return TRUE;
    lv.module = g_module_open("libvirt.so.0", G_MODULE_BIND_LOCAL);
    if (!lv.module) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("--connect: cannot load libvirt: %s"), g_module_error());
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(syms); i++) {
        gpointer *slot = G_STRUCT_MEMBER_P(&lv, syms[i].offset);
        if (!g_module_symbol(lv.module, syms[i].name, slot) || !*slot) {
            g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                        _("--connect: libvirt lacks %s"), syms[i].name);
            g_clear_pointer(&lv.module, g_module_close);
            return FALSE;
        }
    }
    return TRUE;
}

typedef struct {
    virConnectPtr conn;
    SpDomainInfo *dom;  /* the domain named on the command line */
    gboolean active;
} VtpmDomain;

static void
silent_error(void *data, virErrorPtr err)
{
    /* libvirt would print every error on stderr; we report one line. */
}

static gboolean
libvirt_error(const char *what, GError **error)
{
    virErrorPtr e = lv.GetLastError();
    int code = e && (e->code == VIR_ERR_NO_DOMAIN) ? SP_ERROR_NOT_FOUND
                                                    : SP_ERROR_FAILED;

    g_set_error(error, SP_ERROR, code, "%s: %s", what,
                e && e->message ? e->message : _("libvirt call failed"));
    return FALSE;
}

/* XML and state of @d; the SELinux label libvirt picked at start is only
 * in the live XML, which is what GetXMLDesc returns for a running domain. */
static SpDomainInfo *
domain_info(virDomainPtr d, gboolean *active, GError **error)
{
    g_autofree char *xml = lv.DomainGetXMLDesc(d, 0);
    int a;

    if (!xml) {
        libvirt_error(_("domain XML"), error);
        return NULL;
    }
    a = lv.DomainIsActive(d);
    if (a < 0) {
        libvirt_error(_("domain state"), error);
        return NULL;
    }
    if (active)
        *active = a == 1;
    return sp_domain_info_parse(xml, strlen(xml), error);
}

static gboolean
domain_lookup(VtpmDomain *vd, const VtpmOpts *o, GError **error)
{
    g_autofree char *as_uuid = NULL;
    virDomainPtr d;

    if (o->domain_xml) {
        vd->dom = sp_domain_info_parse_file(o->domain_xml, error);
        return vd->dom != NULL;
    }
    if (!o->connect)
        return TRUE;
    if (!libvirt_load(error))
        return FALSE;
    lv.SetErrorFunc(NULL, silent_error);
    vd->conn = lv.ConnectOpenReadOnly(o->connect);
    if (!vd->conn) {
        g_autofree char *what = g_strdup_printf("libvirt '%s'", o->connect);

        return libvirt_error(what, error);
    }
    if (!o->domain)
        return TRUE;
    as_uuid = sp_uuid_normalize(o->domain, NULL);
    d = as_uuid ? lv.DomainLookupByUUIDString(vd->conn, as_uuid)
                : lv.DomainLookupByName(vd->conn, o->domain);
    if (!d) {
        g_autofree char *what = g_strdup_printf(_("domain '%s'"), o->domain);

        return libvirt_error(what, error);
    }
    vd->dom = domain_info(d, &vd->active, error);
    lv.DomainFree(d);
    return vd->dom != NULL;
}

static void
vtpm_domain_clear(VtpmDomain *vd)
{
    g_clear_pointer(&vd->dom, sp_domain_info_free);
    if (vd->conn)
        lv.ConnectClose(vd->conn);
    vd->conn = NULL;
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
                (const char *) g_ptr_array_index(root->notices, i));
}

static void
json_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
json_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

static void
print_builder(JsonBuilder *b)
{
    g_autoptr(JsonNode) node = json_builder_get_root(b);

    sp_cli_print_json(node);
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
    json_str(b, "root", root->path);
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
            virDomainPtr d = lv.DomainLookupByUUIDString(vd->conn, e->uuid);

            if (d) {
                info = domain_info(d, NULL, NULL);
                lv.DomainFree(d);
            }
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
            json_str(b, "uuid", e->uuid);
            json_str(b, "name", dom ? dom->name : NULL);
            json_str(b, "tpm_dir", e->tpm_dir);
            json_int(b, "size", (gint64) e->size);
            json_int(b, "uid", e->uid);
            json_int(b, "gid", e->gid);
            json_str(b, "mode", mode);
            json_str(b, "label", e->label);
            json_str(b, "domain_label", spec.label);
            json_builder_set_member_name(b, "matches_policy");
            json_builder_add_boolean_value(b, match);
            json_builder_end_object(b);
        } else {
            printf("%s  %s  %s  %" PRIu64 "  %u:%u  %s  %s  %s\n",
                   e->uuid, dom && dom->name ? dom->name : "-",
                   e->tpm_dir ? e->tpm_dir : "-", e->size, e->uid, e->gid,
                   mode, e->label ? e->label : "-",
                   match ? "ok" : "differs");
        }
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    if (cli->json)
        print_builder(b);
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
    json_str(b, "uuid", spec->uuid);
    json_builder_set_member_name(b, "differences");
    json_builder_begin_array(b);
    for (guint i = 0; i < diffs->len; i++) {
        SpVtpmDiff *d = g_ptr_array_index(diffs, i);

        left += !d->fixed;
        json_builder_begin_object(b);
        json_str(b, "path", d->path);
        json_str(b, "field", d->field);
        json_str(b, "expected", d->expected);
        json_str(b, "actual", d->actual);
        json_builder_set_member_name(b, "fixed");
        json_builder_add_boolean_value(b, d->fixed);
        json_builder_end_object(b);
        if (!cli->json)
            printf("%s: %s is %s, expected %s%s\n", d->path, d->field,
                   d->actual, d->expected, d->fixed ? " (fixed)" : "");
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, left == 0);
    json_builder_end_object(b);
    if (cli->json)
        print_builder(b);
    if (left > 0) {
        fprintf(stderr, "safepool: vTPM state '%s': %u difference%s%s\n",
                spec->uuid, left, left == 1 ? "" : "s",
                fix ? _(" left (never followed or changed)") : "");
        return 1;
    }
    return 0;
}

/* ---- the others ---- */

static int
do_simple(SpCli *cli, const char *sub, SpVtpmRoot *root, SpVtpmSpec *spec,
          const VtpmOpts *o, VtpmDomain *vd, GError **error)
{
    const SpPolicy *policy = sp_cli_policy(cli, error);
    g_autoptr(JsonBuilder) b = json_builder_new();
    const char *archive = NULL;
    gboolean ok;

    if (!policy)
        return -1;
    if (vd->conn && !vd->dom) {
        /* --connect with --uuid: still ask libvirt whether it runs. */
        virDomainPtr d = lv.DomainLookupByUUIDString(vd->conn, spec->uuid);

        if (d) {
            vd->dom = domain_info(d, &vd->active, NULL);
            lv.DomainFree(d);
        }
    }
    if (strcmp(sub, "create") == 0) {
        if (vd->dom && !vd->dom->has_tpm_emulator) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("domain '%s': has no emulated TPM"),
                        vd->dom->name ? vd->dom->name : vd->dom->uuid);
            return -1;
        }
        if (!spec->tpm_dir)
            spec->tpm_dir = g_strdup("tpm2");
        ok = sp_vtpm_create(root, spec, error);
    } else if (strcmp(sub, "delete") == 0) {
        if (vd->conn && vd->dom && vd->active) {
            g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                        _("vTPM state '%s': domain '%s' is running"),
                        spec->uuid, vd->dom->name);
            return -1;
        }
        if (!vd->conn && !o->force) {
            g_set_error(error, SP_ERROR, SP_ERROR_USAGE,
                        _("vTPM state '%s': cannot tell whether its domain "
                          "runs; give --connect URI --domain, or --force"),
                        spec->uuid);
            return -1;
        }
        ok = (spec->tpm_dir ||
              (spec->tpm_dir = sp_vtpm_find_tpm_dir(root, spec->uuid, NULL,
                                                    error))) &&
             sp_vtpm_check_not_running(root, spec->uuid, spec->tpm_dir,
                                       error) &&
             sp_vtpm_delete(root, spec->uuid, error);
    } else if (strcmp(sub, "save") == 0) {
        archive = o->output;
        ok = (spec->tpm_dir ||
              (spec->tpm_dir = sp_vtpm_find_tpm_dir(root, spec->uuid, NULL,
                                                    error))) &&
             sp_vtpm_save(root, spec, o->output, policy->vtpm_archive_max,
                          error);
    } else {
        archive = o->input;
        if (vd->conn && vd->dom && vd->active) {
            g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                        _("vTPM state '%s': domain '%s' is running"),
                        spec->uuid, vd->dom->name);
            return -1;
        }
        ok = sp_vtpm_restore(root, spec, o->input, policy->vtpm_archive_max,
                             error);
    }
    if (!ok)
        return -1;
    if (cli->json) {
        json_builder_begin_object(b);
        json_str(b, "uuid", spec->uuid);
        json_str(b, "tpm_dir", spec->tpm_dir);
        json_str(b, "root", root->path);
        json_str(b, "archive", archive);
        json_str(b, "label", spec->label);
        json_builder_end_object(b);
        print_builder(b);
    } else {
        printf("%s %s/%s/%s%s%s\n", sub, root->path, spec->uuid,
               strcmp(sub, "delete") == 0 ? "" : spec->tpm_dir,
               archive ? (strcmp(sub, "save") == 0 ? " -> " : " <- ") : "",
               archive ? archive : "");
    }
    return 0;
}

static const struct {
    const char *name;
    const char *summary;
} subcommands[] = {
    {"list", N_("List the states under the root")},
    {"create", N_("Create a state directory with owner, mode and label")},
    {"save", N_("Save a state to a new tar archive (--output)")},
    {"restore", N_("Restore a state from an archive (--input)")},
    {"verify", N_("Report owner, mode and label differences (exit 1)")},
    {"relabel", N_("Fix the differences verify reports")},
    {"delete", N_("Delete a state (refused while its domain runs)")},
};

static int
vtpm_usage(SpCli *cli)
{
    g_autoptr(GString) s = g_string_new(_("a subcommand is needed:"));

    for (gsize i = 0; i < G_N_ELEMENTS(subcommands); i++)
        g_string_append_printf(s, " %s", subcommands[i].name);
    return sp_cli_usage(cli, "vtpm", "%s", s->str);
}

int
sp_cmd_vtpm(SpCli *cli, int argc, char **argv)
{
    g_auto(SpVtpmSpec) spec = {0};
    VtpmOpts o = {0};
    VtpmDomain vd = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVtpmRoot) root = NULL;
    g_autofree char *command = NULL;
    const char *sub = argc > 1 ? argv[1] : NULL;
    const char *summary = NULL;
    int exit_code = 0;
    int rc;
    GOptionEntry entries[] = {
        {"root", 0, 0, G_OPTION_ARG_FILENAME, &o.root,
         N_("State root (default: the policy's [vtpm] root)"), "DIR"},
        {"uuid", 0, 0, G_OPTION_ARG_STRING, &o.uuid, N_("Domain uuid"),
         "UUID"},
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
        {"force", 0, 0, G_OPTION_ARG_NONE, &o.force,
         N_("delete: without asking libvirt whether the domain runs"), NULL},
        {NULL},
    };

    if (sub && (g_str_equal(sub, "--help") || g_str_equal(sub, "-h"))) {
        printf("%s", _("Usage:\n  safepool vtpm SUBCOMMAND [OPTION…]\n\nSubcommands:\n"));
        for (gsize i = 0; i < G_N_ELEMENTS(subcommands); i++)
            printf("  %-9s %s\n", subcommands[i].name, _(subcommands[i].summary));
        printf("%s", _("\nRun 'safepool vtpm SUBCOMMAND --help' for its options.\n"));
        return 0;
    }
    for (gsize i = 0; sub && i < G_N_ELEMENTS(subcommands); i++)
        if (strcmp(sub, subcommands[i].name) == 0)
            summary = _(subcommands[i].summary);
    if (!summary)
        return vtpm_usage(cli);
    command = g_strdup_printf("vtpm %s", sub);
    argc--;
    argv++;
    if (!sp_cli_parse(cli, command, "", summary, entries, &argc, &argv,
                      &exit_code))
        goto out;
    if (argc > 1)
        exit_code = sp_cli_usage(cli, command, _("unexpected argument '%s'"),
                                 argv[1]);
    else if (o.domain && !o.connect)
        exit_code = sp_cli_usage(cli, command, _("--domain needs --connect"));
    else if (o.domain_xml && o.connect)
        exit_code = sp_cli_usage(cli, command,
                                 _("give --domain-xml or --connect, not both"));
    else if (strcmp(sub, "save") == 0 && !o.output)
        exit_code = sp_cli_usage(cli, command, _("--output ARCHIVE is needed"));
    else if (strcmp(sub, "restore") == 0 && !o.input)
        exit_code = sp_cli_usage(cli, command, _("--input ARCHIVE is needed"));
    if (exit_code != 0)
        goto out;

    rc = -1;
    if (domain_lookup(&vd, &o, &error) &&
        fill_spec(cli, &o, vd.dom,
                  strcmp(sub, "list") != 0 && strcmp(sub, "restore") != 0,
                  &spec, &error)) {
        const SpPolicy *policy = sp_cli_policy(cli, &error);
        gboolean makes = strcmp(sub, "create") == 0 ||
                         strcmp(sub, "restore") == 0;
        gboolean reads = strcmp(sub, "list") == 0 ||
                         strcmp(sub, "verify") == 0;

        root = policy ? sp_vtpm_root_open(o.root ? o.root : policy->vtpm_root,
                                          makes, reads, &error)
                      : NULL;
    }
    if (root) {
        if (strcmp(sub, "list") == 0)
            rc = do_list(cli, root, &vd, &spec, &error);
        else if (strcmp(sub, "verify") == 0 || strcmp(sub, "relabel") == 0)
            rc = do_check(cli, root, &spec, strcmp(sub, "relabel") == 0,
                          &error);
        else
            rc = do_simple(cli, sub, root, &spec, &o, &vd, &error);
    }
    print_notices(root);
    exit_code = rc >= 0 ? rc : sp_cli_fail(cli, error);
out:
    vtpm_domain_clear(&vd);
    vtpm_opts_clear(&o);
    return exit_code;
}
