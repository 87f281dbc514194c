/* `safepool status`: is safepool in charge? The storage daemon, its
 * backend directory, the modules it loaded and the libvirt they were built
 * for, the active dir/rbd pools and what is wrong in them, the qemu-img
 * sandbox. One line per finding; exit 1 when something is wrong. */
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <string.h>

#include "image/sp-pool.h"
#include "tools/sp-cli.h"
#include "tools/sp-virt.h"
#include "tools/sp-status.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-sandbox.h"

typedef enum { ST_OK, ST_NOTE, ST_PROBLEM } StLevel;
static const char *const st_level_names[] = {"ok", "note", "problem"};

typedef struct {
    SpCli *cli;
    JsonBuilder *b;      /* the --json document, built as we go */
    GPtrArray *findings; /* "level\tmessage" */
    gboolean problem;
    SpStatusDaemon *daemon;
    gulong running; /* libvirt version libvirtd runs, 0: unknown */
    char **served;  /* pool types safepool serves in the daemon */
    char **shipped; /* pool types safepool has modules for */
    SpPolicy *policy;
    char *policy_path;
} Status;

static void G_GNUC_PRINTF(3, 4)
    finding(Status *s, StLevel level, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_strdelimit(msg, "\r\n\t", ' ');
    s->problem |= level == ST_PROBLEM;
    g_ptr_array_add(s->findings,
                    g_strdup_printf("%s\t%s", st_level_names[level], msg));
}

static char *
version_string(gulong v)
{
    return g_strdup_printf("%lu.%lu.%lu", v / 1000000, v / 1000 % 1000,
                           v % 1000);
}

/* A module the daemon may load: safepool's modules in a directory, by
 * the identity they carry (types they serve go to @types). */
static void
dir_types(const char *root, const char *dir, GPtrArray *types)
{
    g_autofree char *path = g_strconcat(root, dir, NULL);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *n;

    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *f = g_build_filename(path, n, NULL);
        g_autoptr(SpStatusModule) m = g_new0(SpStatusModule, 1);

        if (!g_str_has_prefix(n, "libvirt_storage_backend_") ||
            g_file_test(f, G_FILE_TEST_IS_SYMLINK) ||
            !sp_status_module_read(m, f) || !m->safepool)
            continue;
        for (guint i = 0; m->types && m->types[i]; i++)
            if (!g_ptr_array_find_with_equal_func(types, m->types[i],
                                                  g_str_equal, NULL))
                g_ptr_array_add(types, g_strdup(m->types[i]));
    }
}

static char **
strv_from(GPtrArray *a)
{
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* The daemon's environment and the modules it mapped. */
static void
check_modules(Status *s)
{
    SpStatusDaemon *d = s->daemon;
    GPtrArray *served = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *shipped = g_ptr_array_new_with_free_func(g_free);
    gboolean any = FALSE;

    json_builder_set_member_name(s->b, "modules");
    json_builder_begin_array(s->b);
    for (guint i = 0; i < d->modules->len; i++) {
        SpStatusModule *m = g_ptr_array_index(d->modules, i);
        g_autofree char *built =
            m->safepool ? version_string(m->built_for) : NULL;
        g_autofree char *types = m->types ? g_strjoinv(",", m->types) : NULL;

        json_builder_begin_object(s->b);
        sp_json_str(s->b, "path", m->path);
        sp_json_bool(s->b, "safepool", m->safepool);
        sp_json_str(s->b, "version", m->version);
        sp_json_str(s->b, "built_for_libvirt", built);
        sp_json_str(s->b, "types", types);
        json_builder_end_object(s->b);
        if (!m->safepool)
            continue;
        any = TRUE;
        if (s->running && m->built_for != s->running) {
            g_autofree char *run = version_string(s->running);
            finding(s, ST_PROBLEM,
                    _("module %s: built for libvirt %s, %s runs %s: its pools "
                      "(%s) are refused until safepool is rebuilt for it"),
                    m->path, built, d->name, run, types);
            continue;
        }
        finding(s, ST_OK, _("module %s: safepool %s for libvirt %s, serves %s"),
                m->path, m->version, built, types);
        for (guint t = 0; m->types && m->types[t]; t++)
            g_ptr_array_add(served, g_strdup(m->types[t]));
    }
    json_builder_end_array(s->b);
    if (!any)
        finding(s, ST_PROBLEM,
                _("%s (pid %d) has loaded no safepool module: libvirt's own "
                  "backends serve its pools"),
                d->name, (int)d->pid);
    dir_types("", SP_BACKEND_DIR, shipped);
    if (d->backend_dir)
        dir_types(d->root, d->backend_dir, shipped);
    s->served = strv_from(served);
    s->shipped = strv_from(shipped);
}

static void
check_daemon(Status *s)
{
    SpStatusDaemon *d = s->daemon;

    json_builder_set_member_name(s->b, "daemon");
    json_builder_begin_object(s->b);
    sp_json_str(s->b, "name", d->name);
    sp_json_int(s->b, "pid", d->pid);
    sp_json_str(s->b, "backend_dir", d->backend_dir);
    sp_json_bool(s->b, "backend_dir_is_safepool",
                 g_strcmp0(d->backend_dir, SP_BACKEND_DIR) == 0);
    sp_json_str(s->b, "config", d->config);
    json_builder_end_object(s->b);
    finding(s, ST_OK, _("%s (pid %d) serves libvirt storage"), d->name,
            (int)d->pid);
    if (!d->backend_dir)
        finding(s, ST_PROBLEM,
                _("%s's environment has no LIBVIRT_STORAGE_BACKEND_DIR: it "
                  "loads libvirt's stock backends (is the safepool drop-in "
                  "installed, and the daemon restarted since?)"),
                d->name);
    else if (g_str_equal(d->backend_dir, SP_BACKEND_DIR))
        finding(s, ST_OK, _("LIBVIRT_STORAGE_BACKEND_DIR=%s (safepool's)"),
                d->backend_dir);
    else
        finding(s, ST_NOTE,
                _("LIBVIRT_STORAGE_BACKEND_DIR=%s, not the installed %s"),
                d->backend_dir, SP_BACKEND_DIR);
}

/* type and target path of a pool's XML */
static gboolean
pool_xml(const char *xml, char **type, char **path)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "pool.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
    const char *exprs[] = {"string(/pool/@type)", "string(/pool/target/path)"};
    char **outs[] = {type, path};

    for (gsize i = 0; ctx && i < G_N_ELEMENTS(exprs); i++) {
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST exprs[i], ctx);

        *outs[i] = o && o->stringval ? g_strdup((char *)o->stringval) : NULL;
        xmlXPathFreeObject(o);
    }
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return *type != NULL;
}

/* A dir pool safepool serves: stale temporaries, files of no format. */
static void
check_dir_pool(Status *s, const char *name, const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *p = g_strconcat(s->daemon->root, path, NULL);
    g_autoptr(SpPool) pool = sp_pool_open_full(p, s->policy, FALSE, &error);
    g_autoptr(GPtrArray) vols = pool ? sp_pool_list(pool, &error) : NULL;
    g_autoptr(GPtrArray) stale =
        vols ? sp_fs_stale(sp_pool_fd(pool), &error) : NULL;
    guint unknown = 0;

    if (!stale) {
        finding(s, ST_PROBLEM, _("pool '%s': %s"), name, error->message);
        return;
    }
    for (guint i = 0; i < vols->len; i++)
        unknown += !((SpVolInfo *)g_ptr_array_index(vols, i))->recorded;
    sp_json_int(s->b, "volumes", vols->len);
    sp_json_int(s->b, "stale_temporaries", stale->len);
    sp_json_int(s->b, "unknown_format", unknown);
    if (stale->len)
        finding(s, ST_PROBLEM,
                _("pool '%s': %u stale temporar%s (left by a crash; "
                  "removed at the next pool refresh)"),
                name, stale->len, stale->len == 1 ? "y" : "ies");
    if (unknown)
        finding(s, ST_PROBLEM,
                _("pool '%s': %u volume%s of unknown format (copied in by "
                  "hand? see safepool vol-adopt)"),
                name, unknown, unknown == 1 ? "" : "s");
}

static void
check_pool(Status *s, virStoragePoolPtr p)
{
    const char *name = sp_virt.StoragePoolGetName(p);
    g_autofree char *xml = sp_virt.StoragePoolGetXMLDesc(p, 0);
    g_autofree char *type = NULL;
    g_autofree char *path = NULL;
    gboolean served, ours;

    if (!xml || !pool_xml(xml, &type, &path) ||
        (!g_str_equal(type, "dir") && !g_str_equal(type, "rbd")))
        return;
    served = g_strv_contains((const char *const *)s->served, type);
    /* dir pools are what safepool is for; another type only once
     * safepool has a module for it */
    ours = g_str_equal(type, "dir") ||
           g_strv_contains((const char *const *)s->shipped, type);
    json_builder_begin_object(s->b);
    sp_json_str(s->b, "name", name);
    sp_json_str(s->b, "type", type);
    sp_json_str(s->b, "path", path);
    sp_json_bool(s->b, "safepool", served);
    if (served)
        finding(s, ST_OK, _("pool '%s' (%s, %s): served by safepool"), name,
                type, path ? path : "-");
    else
        finding(s, ours ? ST_PROBLEM : ST_NOTE,
                _("pool '%s' (%s): served by libvirt's stock %s backend, "
                  "not by safepool"),
                name, type, type);
    if (served && g_str_equal(type, "dir") && path)
        check_dir_pool(s, name, path);
    json_builder_end_object(s->b);
}

static void
check_pools(Status *s, const char *uri)
{
    g_autoptr(GError) error = NULL;
    virConnectPtr conn = NULL;
    virStoragePoolPtr *pools = NULL;
    int n = -1;

    if (sp_virt_load(&error) && !(conn = sp_virt.ConnectOpenReadOnly(uri))) {
        g_autofree char *what = g_strdup_printf("libvirt '%s'", uri);

        sp_virt_error(what, &error);
    }
    if (conn && sp_virt.ConnectGetLibVersion(conn, &s->running) < 0)
        s->running = 0;
    check_modules(s);
    json_builder_set_member_name(s->b, "pools");
    json_builder_begin_array(s->b);
    if (conn) {
        n = sp_virt.ConnectListAllStoragePools(
            conn, &pools,
            VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE |
                VIR_CONNECT_LIST_STORAGE_POOLS_DIR |
                VIR_CONNECT_LIST_STORAGE_POOLS_RBD);
        if (n < 0)
            sp_virt_error(_("listing storage pools"), &error);
    }
    for (int i = 0; i < n; i++) {
        check_pool(s, pools[i]);
        sp_virt.StoragePoolFree(pools[i]);
    }
    free(pools);
    json_builder_end_array(s->b);
    if (error)
        finding(s, ST_PROBLEM, "%s", error->message);
    if (conn)
        sp_virt.ConnectClose(conn);
}

/* The policy the daemon applies (or --config's), and whether qemu-img's
 * sandbox is on and can be set up here. */
static void
check_sandbox(Status *s)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *why = NULL;
    const char *root = s->daemon ? s->daemon->root : "";
    gboolean available = FALSE;

    if (s->cli->config_path)
        s->policy_path = g_strdup(s->cli->config_path);
    else if (s->daemon && s->daemon->config)
        s->policy_path = g_strconcat(root, s->daemon->config, NULL);
    else
        s->policy_path = g_strconcat(root, SP_POLICY_DEFAULT_PATH, NULL);
    if (!g_file_test(s->policy_path, G_FILE_TEST_EXISTS) &&
        !s->cli->config_path && !(s->daemon && s->daemon->config))
        g_clear_pointer(&s->policy_path, g_free); /* built-in defaults */
    s->policy = s->policy_path ? sp_policy_load(s->policy_path, &error)
                               : sp_policy_new_default();
    if (!s->policy) {
        finding(s, ST_PROBLEM, "%s", error->message);
        s->policy = sp_policy_new_default();
    }
    if (s->policy->sandbox)
        available = sp_sandbox_available(&why);
    json_builder_set_member_name(s->b, "sandbox");
    json_builder_begin_object(s->b);
    sp_json_str(s->b, "policy", s->policy_path);
    sp_json_bool(s->b, "enabled", s->policy->sandbox);
    sp_json_bool(s->b, "available", available);
    sp_json_str(s->b, "reason", why);
    json_builder_end_object(s->b);
    if (!s->policy->sandbox)
        finding(s, ST_PROBLEM,
                _("qemu-img runs unconfined, as root: [qemu-img] "
                  "sandbox=false in %s"),
                s->policy_path ? s->policy_path : _("the policy"));
    else if (!available)
        finding(s, ST_PROBLEM,
                _("volume operations that run qemu-img are refused here: "
                  "%s"),
                why ? why : _("the qemu-img sandbox cannot be set up"));
    else
        finding(s, ST_OK,
                _("qemu-img runs in a bubblewrap sandbox (policy: %s)"),
                s->policy_path ? s->policy_path : _("built-in defaults"));
}

static void
report(Status *s)
{
    json_builder_set_member_name(s->b, "findings");
    json_builder_begin_array(s->b);
    for (guint i = 0; i < s->findings->len; i++) {
        g_auto(GStrv) f =
            g_strsplit(g_ptr_array_index(s->findings, i), "\t", 2);

        json_builder_begin_object(s->b);
        sp_json_str(s->b, "level", f[0]);
        sp_json_str(s->b, "message", f[1]);
        json_builder_end_object(s->b);
        if (!s->cli->json)
            printf("%s: %s\n", f[0], f[1]);
    }
    json_builder_end_array(s->b);
    sp_json_bool(s->b, "ok", !s->problem);
    json_builder_end_object(s->b);
    if (s->cli->json)
        sp_cli_print_builder(s->b);
}

int
sp_cmd_status(SpCli *cli, int argc, char **argv)
{
    g_autofree char *uri = NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(SpStatusDaemon) daemon = NULL;
    Status s = {cli, b, findings};
    int rc;
    GOptionEntry entries[] = {
        {"connect", 0, 0, G_OPTION_ARG_STRING, &uri,
         N_("libvirt URI of the storage driver (default: "
            "$LIBVIRT_DEFAULT_URI, else storage:///system)"),
         "URI"},
        {NULL},
    };

    if (!sp_cli_parse(cli, "status", "",
                      _("Tell whether safepool is in charge: the storage "
                        "daemon, its backend directory and modules, their "
                        "libvirt version, the active dir and rbd pools, the "
                        "qemu-img sandbox. Exit 1 when something is wrong."),
                      entries, &argc, &argv, &rc))
        return rc;
    if (argc > 1)
        return sp_cli_usage(cli, "status", _("unexpected argument '%s'"),
                            argv[1]);
    if (!uri)
        uri = g_strdup(g_getenv("LIBVIRT_DEFAULT_URI")
                           ? g_getenv("LIBVIRT_DEFAULT_URI")
                           : "storage:///system");
    json_builder_begin_object(b);
    daemon = s.daemon = sp_status_daemon_find();
    if (daemon) {
        check_daemon(&s);
    } else {
        json_builder_set_member_name(b, "daemon");
        json_builder_add_null_value(b);
        finding(&s, ST_PROBLEM,
                _("no libvirt storage daemon (libvirtd or virtstoraged) runs "
                  "here"));
    }
    check_sandbox(&s);
    if (daemon)
        check_pools(&s, uri);
    report(&s);
    g_strfreev(s.served);
    g_strfreev(s.shipped);
    sp_policy_free(s.policy);
    g_free(s.policy_path);
    return s.problem ? 1 : 0;
}
