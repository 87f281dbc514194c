/* Where an RBD pool is and how safepool reaches it: the pool's source,
 * image names, the connection (no ceph.conf, bounded waits), errors. */
#include "rbd/sp-rbd-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "conf/sp-volume.h"

SpRbdSource *
sp_rbd_source_new(void)
{
    return g_new0(SpRbdSource, 1);
}

void
sp_rbd_source_free(SpRbdSource *s)
{
    if (!s)
        return;
    g_strfreev(s->monitors);
    g_free(s->user);
    g_free(s->pool);
    g_free(s->ns);
    g_free(s);
}

gboolean
sp_rbd_source_set_name(SpRbdSource *s, const char *name, GError **error)
{
    const char *slash = name ? strchr(name, '/') : NULL;

    g_clear_pointer(&s->pool, g_free);
    g_clear_pointer(&s->ns, g_free);
    if (!name || !*name) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool: <source><name> (POOL or POOL/NAMESPACE) is "
                      "required"));
        return FALSE;
    }
    s->pool = slash ? g_strndup(name, (gsize)(slash - name)) : g_strdup(name);
    s->ns = slash ? g_strdup(slash + 1) : NULL;
    return TRUE;
}

char *
sp_rbd_source_name(const SpRbdSource *s)
{
    return s->ns ? g_strdup_printf("%s/%s", s->pool, s->ns) : g_strdup(s->pool);
}

/* A RADOS pool or RBD namespace name: printable, no separators. */
static gboolean
rados_name_ok(const char *n)
{
    if (!n || !*n || strlen(n) > 255 || !g_utf8_validate(n, -1, NULL))
        return FALSE;
    for (const char *c = n; *c; c++) {
        if (g_ascii_iscntrl(*c) || strchr("/@ ,:=\\", *c))
            return FALSE;
    }
    return TRUE;
}

/* "host", "host:port", "[v6]:port": only what mon_host can hold, so no
 * monitor entry can add an option or another monitor. */
static gboolean
monitor_ok(const char *m)
{
    if (!m || !*m || strlen(m) > 300)
        return FALSE;
    for (const char *c = m; *c; c++) {
        if (!g_ascii_isalnum(*c) && !strchr(".-:[]_", *c))
            return FALSE;
    }
    return TRUE;
}

static gboolean
namespace_allowed(const SpRbdSource *s, const SpPolicy *policy)
{
    if (!policy->rbd_namespaces || !policy->rbd_namespaces[0])
        return TRUE;
    for (guint i = 0; policy->rbd_namespaces[i]; i++) {
        g_auto(GStrv) p = g_strsplit(policy->rbd_namespaces[i], "/", 2);

        if (!g_str_equal(p[0], s->pool))
            continue;
        if (!p[1] ? !s->ns
                  : (g_str_equal(p[1], "*") ||
                     (s->ns && g_str_equal(p[1], s->ns))))
            return TRUE;
    }
    return FALSE;
}

gboolean
sp_rbd_source_check(const SpRbdSource *s, const SpPolicy *policy,
                    GError **error)
{
    g_autofree char *name = NULL;

    if (!s->monitors || !s->monitors[0]) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool: at least one <host> (a Ceph monitor) is "
                      "required"));
        return FALSE;
    }
    for (guint i = 0; s->monitors[i]; i++) {
        if (!monitor_ok(s->monitors[i])) {
            g_autofree char *shown = g_strescape(s->monitors[i], NULL);

            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("rbd pool: monitor '%s' is not a host name or "
                          "address with an optional port"),
                        shown);
            return FALSE;
        }
    }
    if (!s->user || !*s->user ||
        strspn(s->user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") != strlen(s->user)) {
        g_autofree char *shown = g_strescape(s->user ? s->user : "", NULL);

        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool: <auth type='ceph' username='%s'>: a cephx "
                      "user name is required (letters, digits, '.', '_', "
                      "'-')"),
                    shown);
        return FALSE;
    }
    if (!rados_name_ok(s->pool) || (s->ns && !rados_name_ok(s->ns))) {
        g_autofree char *raw = sp_rbd_source_name(s);
        g_autofree char *shown = g_strescape(raw, NULL);

        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool: source name '%s' is not POOL or "
                      "POOL/NAMESPACE"),
                    shown);
        return FALSE;
    }
    name = sp_rbd_source_name(s);
    if (policy->rbd_require_namespace && !s->ns) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool '%s': the policy requires a namespace "
                      "(POOL/NAMESPACE)"),
                    name);
        return FALSE;
    }
    if (!namespace_allowed(s, policy)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool '%s': not among the policy's namespaces"),
                    name);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_rbd_check_name(const char *name, GError **error)
{
    if (!sp_volume_check_name(name, error))
        return FALSE;
    if (strchr(name, '@') || strchr(name, '\\')) {
        g_autofree char *shown = g_strescape(name, NULL);

        sp_set_error_element(error, SP_ERROR_INVALID, "name",
                             _("volume name '%s': '%c' is not allowed in an "
                               "RBD image name"),
                             shown, strchr(name, '@') ? '@' : '\\');
        return FALSE;
    }
    return TRUE;
}

struct SpRbdConn {
    char *id; /* digest of everything the connection was made from */
    rados_t cluster;
    rados_ioctx_t io;
    int refs;
    gboolean broken;
    gint64 last_used;
};

static GMutex sp_conn_mu;
static GHashTable *sp_conns; /* id -> SpRbdConn* (NULL: no sharing) */
static guint sp_conn_idle_sec;

void
sp_rbd_conn_cache_enable(guint idle_sec)
{
    g_mutex_lock(&sp_conn_mu);
    sp_conn_idle_sec = MAX(idle_sec, 1);
    if (!sp_conns)
        sp_conns = g_hash_table_new(g_str_hash, g_str_equal);
    g_mutex_unlock(&sp_conn_mu);
}

static void
conn_destroy(SpRbdConn *c)
{
    rados_ioctx_destroy(c->io);
    rados_shutdown(c->cluster);
    g_free(c->id);
    g_free(c);
}

/* Under sp_conn_mu: drop the idle and the broken ones nobody uses. */
static void
conn_expire(GPtrArray *dead)
{
    GHashTableIter it;
    gpointer v;
    gint64 now = g_get_monotonic_time();

    g_hash_table_iter_init(&it, sp_conns);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        SpRbdConn *c = v;

        if (c->refs == 0 &&
            (c->broken || now - c->last_used >
                              (gint64)sp_conn_idle_sec * G_TIME_SPAN_SECOND)) {
            g_hash_table_iter_remove(&it);
            g_ptr_array_add(dead, c);
        }
    }
}

static char *
conn_id(const SpRbdSource *src, const SpSecret *key, const SpPolicy *policy)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *mons = g_strjoinv(",", src->monitors);
    g_autofree char *t = g_strdup_printf("%u", policy->rbd_timeout_sec);

    g_checksum_update(sum, (const guchar *)mons, -1);
    g_checksum_update(sum, (const guchar *)"\n", 1);
    g_checksum_update(sum, (const guchar *)src->user, -1);
    g_checksum_update(sum, (const guchar *)"\n", 1);
    g_checksum_update(sum, (const guchar *)src->pool, -1);
    g_checksum_update(sum, (const guchar *)"\n", 1);
    g_checksum_update(sum, (const guchar *)(src->ns ? src->ns : ""), -1);
    g_checksum_update(sum, (const guchar *)"\n", 1);
    g_checksum_update(sum, (const guchar *)t, -1);
    g_checksum_update(sum, (const guchar *)"\n", 1);
    g_checksum_update(sum, sp_secret_data(key), (gssize)sp_secret_len(key));
    return g_strdup(g_checksum_get_string(sum));
}

/* A shared connection for @id, referenced, or NULL. */
static SpRbdConn *
conn_get(const char *id)
{
    g_autoptr(GPtrArray) dead = g_ptr_array_new();
    SpRbdConn *c = NULL;

    g_mutex_lock(&sp_conn_mu);
    if (sp_conns) {
        conn_expire(dead);
        if ((c = g_hash_table_lookup(sp_conns, id)))
            c->refs++;
    }
    g_mutex_unlock(&sp_conn_mu);
    for (guint i = 0; i < dead->len; i++)
        conn_destroy(g_ptr_array_index(dead, i));
    return c;
}

/* Share the connection @pool just made, if sharing is on. */
static void
conn_put_new(SpRbdPool *pool, char *id)
{
    g_mutex_lock(&sp_conn_mu);
    if (sp_conns && !g_hash_table_contains(sp_conns, id)) {
        SpRbdConn *c = g_new0(SpRbdConn, 1);

        c->id = g_steal_pointer(&id);
        c->cluster = pool->cluster;
        c->io = pool->io;
        c->refs = 1;
        g_hash_table_insert(sp_conns, c->id, c);
        pool->conn = c;
    }
    g_mutex_unlock(&sp_conn_mu);
    g_free(id);
}

static void
conn_unref(SpRbdConn *c)
{
    g_mutex_lock(&sp_conn_mu);
    c->refs--;
    c->last_used = g_get_monotonic_time();
    g_mutex_unlock(&sp_conn_mu);
}

gboolean
sp_rbd_fail(SpRbdPool *pool, GError **error, int rc, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;
    int e = rc < 0 ? -rc : rc;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (pool && pool->conn &&
        (e == ETIMEDOUT || e == ESHUTDOWN || e == ENOTCONN || e == EACCES ||
         e == EPERM)) {
        /* not to be handed to the next operation */
        g_mutex_lock(&sp_conn_mu);
        pool->conn->broken = TRUE;
        g_mutex_unlock(&sp_conn_mu);
    }
    if (e == ETIMEDOUT) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: no answer from the Ceph cluster (monitors %s) "
                      "within %u s: a monitor or OSD is down, or user "
                      "'%s' or its cephx key is wrong"),
                    what, pool ? pool->monitors : "?",
                    pool ? pool->policy->rbd_timeout_sec : 0,
                    pool ? pool->user : "?");
        return FALSE;
    }
    if (e == EBUSY) {
        g_set_error(error, SP_ERROR, SP_ERROR_IN_USE, "%s: %s", what,
                    g_strerror(e));
        return FALSE;
    }
    return sp_error_set_errno(error, e, "%s", what);
}

int
sp_rbd_no_progress(uint64_t offset, uint64_t total, void *data)
{
    return 0;
}

char *
sp_rbd_name_hash(const char *name)
{
    g_autofree char *sum =
        g_compute_checksum_for_string(G_CHECKSUM_SHA256, name, -1);

    return g_strndup(sum, 32);
}

char *
sp_rbd_tmp_name(const char *tag, const char *public)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    g_autofree char *hash = sp_rbd_name_hash(public);
    char rnd[13];

    for (gsize i = 0; i < 12; i++)
        rnd[i] = chars[g_random_int_range(0, (gint32)sizeof(chars) - 1)];
    rnd[12] = 0;
    return g_strdup_printf(SP_RBD_TMP_PREFIX "%s-%s-%s", tag, hash, rnd);
}

char *
sp_rbd_tmp_hash(const char *tmp)
{
    const char *p;
    gsize n;

    if (!g_str_has_prefix(tmp, SP_RBD_TMP_PREFIX))
        return NULL;
    p = strchr(tmp + strlen(SP_RBD_TMP_PREFIX), '-');
    if (!p)
        return NULL;
    p++;
    n = strspn(p, "0123456789abcdef");
    if (n != 32 || p[32] != '-')
        return NULL;
    return g_strndup(p, 32);
}

gboolean
sp_rbd_open(SpRbdPool *pool, const char *name, gboolean rw, SpRbdImage *img,
            GError **error)
{
    int rc = rw ? rbd_open(pool->io, name, img, NULL)
                : rbd_open_read_only(pool->io, name, img, NULL);

    if (rc < 0) {
        *img = NULL;
        return sp_rbd_fail(pool, error, rc, _("volume '%s' in rbd pool '%s'"),
                           name, pool->name);
    }
    return TRUE;
}

char *
sp_rbd_meta_get(SpRbdPool *pool, SpRbdImage img, const char *name,
                const char *key, GError **error)
{
    size_t len = 256;

    for (;;) {
        g_autofree char *buf = g_malloc0(len + 1);
        size_t want = len;
        int rc = rbd_metadata_get(img, key, buf, &want);

        if (rc == -ENOENT)
            return NULL;
        if (rc == -ERANGE && want > len && want < 16 * 1024 * 1024) {
            len = want;
            continue;
        }
        if (rc < 0) {
            sp_rbd_fail(pool, error, rc, _("volume '%s': metadata '%s'"), name,
                        key);
            return NULL;
        }
        return g_steal_pointer(&buf);
    }
}

static gboolean
conf_set(SpRbdPool *pool, const char *opt, const char *value, GError **error)
{
    int rc = rados_conf_set(pool->cluster, opt, value);

    if (rc < 0)
        return sp_rbd_fail(pool, error, rc, _("librados option '%s'"), opt);
    return TRUE;
}

/* Everything librados is told: monitors, identity, key, time limits, and
 * nothing read from a file or the environment. No admin socket (it would
 * print the configuration, key included), no log file. */
static gboolean
configure(SpRbdPool *pool, const SpSecret *key, GError **error)
{
    g_autofree char *timeout =
        g_strdup_printf("%u", pool->policy->rbd_timeout_sec);

    return conf_set(pool, "mon_host", pool->monitors, error) &&
           conf_set(pool, "keyring", "", error) &&
           conf_set(pool, "auth_client_required", "cephx", error) &&
           conf_set(pool, "admin_socket", "", error) &&
           conf_set(pool, "log_file", "", error) &&
           conf_set(pool, "log_to_stderr", "false", error) &&
           conf_set(pool, "err_to_stderr", "false", error) &&
           conf_set(pool, "client_mount_timeout", timeout, error) &&
           conf_set(pool, "rados_mon_op_timeout", timeout, error) &&
           conf_set(pool, "rados_osd_op_timeout", timeout, error) &&
           conf_set(pool, "key", sp_secret_cstr(key), error);
}

SpRbdPool *
sp_rbd_pool_open(const SpRbdSource *src, const SpSecret *key,
                 const SpPolicy *policy, GError **error)
{
    g_autoptr(SpRbdPool) pool = g_new0(SpRbdPool, 1);
    g_autofree char *client = NULL;
    g_autofree char *id = NULL;
    int rc;

    if (!sp_rbd_source_check(src, policy, error))
        return NULL;
    if (!key || sp_secret_len(key) == 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool: no cephx key for user '%s'"), src->user);
        return NULL;
    }
    pool->policy = policy;
    pool->name = sp_rbd_source_name(src);
    pool->rados_pool = g_strdup(src->pool);
    pool->ns = g_strdup(src->ns);
    pool->monitors = g_strjoinv(",", src->monitors);
    pool->user = g_strdup(src->user);
    id = conn_id(src, key, policy);
    if ((pool->conn = conn_get(id))) {
        pool->cluster = pool->conn->cluster;
        pool->io = pool->conn->io;
        return g_steal_pointer(&pool);
    }
    client = g_strdup_printf("client.%s", src->user);
    if ((rc = rados_create2(&pool->cluster, "ceph", client, 0)) < 0) {
        pool->cluster = NULL;
        sp_rbd_fail(pool, error, rc, _("rbd pool '%s': librados"), pool->name);
        return NULL;
    }
    if (!configure(pool, key, error))
        return NULL;
    if ((rc = rados_connect(pool->cluster)) < 0) {
        sp_rbd_fail(pool, error, rc, _("rbd pool '%s': connecting"),
                    pool->name);
        return NULL;
    }
    if ((rc = rados_ioctx_create(pool->cluster, src->pool, &pool->io)) < 0) {
        pool->io = NULL;
        sp_rbd_fail(pool, error, rc, _("rbd pool '%s': RADOS pool '%s'"),
                    pool->name, src->pool);
        return NULL;
    }
    if (src->ns) {
        bool exists = false;

        if ((rc = rbd_namespace_exists(pool->io, src->ns, &exists)) < 0) {
            sp_rbd_fail(pool, error, rc, _("rbd pool '%s': namespace '%s'"),
                        pool->name, src->ns);
            return NULL;
        }
        if (!exists) {
            g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                        _("rbd pool '%s': namespace '%s' does not exist "
                          "(pool-build creates it)"),
                        pool->name, src->ns);
            return NULL;
        }
        rados_ioctx_set_namespace(pool->io, src->ns);
    }
    conn_put_new(pool, g_steal_pointer(&id));
    return g_steal_pointer(&pool);
}

void
sp_rbd_pool_free(SpRbdPool *pool)
{
    if (!pool)
        return;
    if (pool->conn) {
        conn_unref(pool->conn);
    } else {
        if (pool->io)
            rados_ioctx_destroy(pool->io);
        if (pool->cluster)
            rados_shutdown(pool->cluster);
    }
    g_free(pool->name);
    g_free(pool->rados_pool);
    g_free(pool->ns);
    g_free(pool->monitors);
    g_free(pool->user);
    g_free(pool);
}

const SpPolicy *
sp_rbd_pool_policy(const SpRbdPool *pool)
{
    return pool->policy;
}

const char *
sp_rbd_pool_name(const SpRbdPool *pool)
{
    return pool->name;
}

gboolean
sp_rbd_pool_stat(SpRbdPool *pool, guint64 *capacity, guint64 *available,
                 guint64 *allocation, GError **error)
{
    struct rados_cluster_stat_t cs;
    struct rados_pool_stat_t ps;
    int rc;

    if ((rc = rados_cluster_stat(pool->cluster, &cs)) < 0 ||
        (rc = rados_ioctx_pool_stat(pool->io, &ps)) < 0)
        return sp_rbd_fail(pool, error, rc, _("rbd pool '%s': statistics"),
                           pool->name);
    *capacity = cs.kb * 1024;
    *available = cs.kb_avail * 1024;
    *allocation = ps.num_bytes;
    return TRUE;
}

gboolean
sp_rbd_namespace_create(SpRbdPool *pool, const char *ns, GError **error)
{
    bool exists = false;
    int rc;

    if (!rados_name_ok(ns)) {
        g_autofree char *shown = g_strescape(ns, NULL);

        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd namespace '%s' is not a valid name"), shown);
        return FALSE;
    }
    if ((rc = rbd_namespace_exists(pool->io, ns, &exists)) < 0 ||
        (!exists && (rc = rbd_namespace_create(pool->io, ns)) < 0 &&
         rc != -EEXIST))
        return sp_rbd_fail(pool, error, rc, _("rbd pool '%s': namespace '%s'"),
                           pool->name, ns);
    return TRUE;
}
