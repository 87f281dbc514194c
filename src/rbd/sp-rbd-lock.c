/* Cross-host serialisation per image name: an exclusive lock of the
 * cls_lock class on one RADOS object per pool namespace, one lock name
 * per image name, a fresh cookie per operation and a lease that a thread
 * renews while the operation runs. A host that dies stops renewing and
 * its lock ends with the lease; nothing else ever breaks a lock. */
#include "rbd/sp-rbd-private.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* The objects holding the locks of a namespace: "safepool.lock.XX" for
 * the first two hex digits of a name's hash, so that no object gathers
 * every name (cls_lock keeps an entry per lock name on its object, also
 * after the unlock, and bluestore rewrites an object's attributes whole
 * on each change). Made by the first lock; they hold no data. */
#define SP_RBD_LOCK_OID_PREFIX "safepool.lock."

struct SpRbdLock {
    SpRbdPool *pool;
    char *name;     /* the image name, for messages */
    char *oid;      /* SP_RBD_LOCK_OID_PREFIX + 2 hex digits */
    char *lockname; /* "vol." + hash of the name: any Unicode is fine */
    char *cookie;
    char *desc;
    GThread *renewer;
    GMutex mu;
    GCond cond;
    gboolean stop;
    int lost; /* 0, or the rc of the renewal that failed */
};

guint
sp_rbd_lock_wait_ms(const SpRbdPool *pool)
{
    return pool->policy->rbd_lock_wait_sec * 1000;
}

static int
lock_call(SpRbdLock *l, guint8 flags)
{
    struct timeval tv = {.tv_sec = l->pool->policy->rbd_lock_lease_sec};

    return rados_lock_exclusive(l->pool->io, l->oid, l->lockname, l->cookie,
                                l->desc, &tv, flags);
}

static gpointer
renew_thread(gpointer data)
{
    SpRbdLock *l = data;
    /* a third of the lease: two renewals may fail before it ends */
    gint64 period =
        MAX(1, l->pool->policy->rbd_lock_lease_sec) * G_TIME_SPAN_SECOND / 3;

    g_mutex_lock(&l->mu);
    while (!l->stop) {
        gint64 until = g_get_monotonic_time() + period;

        while (!l->stop && g_cond_wait_until(&l->cond, &l->mu, until))
            ;
        if (l->stop)
            break;
        g_mutex_unlock(&l->mu);
        {
            int rc = lock_call(l, LIBRADOS_LOCK_FLAG_MUST_RENEW);

            g_mutex_lock(&l->mu);
            if (rc < 0 && rc != -ETIMEDOUT && !l->lost)
                l->lost = rc;
        }
    }
    g_mutex_unlock(&l->mu);
    return NULL;
}

static SpRbdLock *
lock_new(SpRbdPool *pool, const char *hash, const char *name)
{
    SpRbdLock *l = g_new0(SpRbdLock, 1);
    g_autofree char *host = g_strdup(g_get_host_name());
    g_autofree char *shown = g_strescape(name, NULL);

    l->pool = pool;
    l->name = g_strdup(name);
    l->oid = g_strdup_printf(SP_RBD_LOCK_OID_PREFIX "%.2s", hash);
    l->lockname = g_strconcat("vol.", hash, NULL);
    l->cookie = g_uuid_string_random();
    if (strlen(shown) > 120)
        shown[120] = 0;
    l->desc = g_strdup_printf("safepool pid %d on %s: %s", (int)getpid(), host,
                              shown);
    g_mutex_init(&l->mu);
    g_cond_init(&l->cond);
    return l;
}

static void
lock_free(SpRbdLock *l)
{
    g_mutex_clear(&l->mu);
    g_cond_clear(&l->cond);
    g_free(l->name);
    g_free(l->oid);
    g_free(l->lockname);
    g_free(l->cookie);
    g_free(l->desc);
    g_free(l);
}

SpRbdLock *
sp_rbd_lock(SpRbdPool *pool, const char *name, guint wait_ms, GError **error)
{
    g_autofree char *hash = sp_rbd_name_hash(name);

    return sp_rbd_lock_hash(pool, hash, name, wait_ms, error);
}

SpRbdLock *
sp_rbd_lock_hash(SpRbdPool *pool, const char *hash, const char *name,
                 guint wait_ms, GError **error)
{
    SpRbdLock *l = lock_new(pool, hash, name);
    gint64 deadline = g_get_monotonic_time() + (gint64)wait_ms * 1000;
    gulong pause_us = 10000;
    int rc;

    for (;;) {
        rc = lock_call(l, 0);
        if (rc != -EBUSY || g_get_monotonic_time() >= deadline)
            break;
        /* another holder: poll (cls_lock cannot wait), a little slower
         * each time, with jitter so that waiters do not move in step */
        g_usleep(pause_us + (gulong)g_random_int_range(0, (gint32)pause_us));
        pause_us = MIN(pause_us * 2, 200000);
    }
    if (rc == -EBUSY) {
        g_autofree char *shown = g_strescape(name, NULL);

        g_set_error(error, SP_ERROR, SP_ERROR_LOCKED,
                    _("volume '%s' in rbd pool '%s' is locked by another "
                      "operation (on this or another host)"),
                    shown, pool->name);
        lock_free(l);
        return NULL;
    }
    if (rc < 0) {
        sp_rbd_fail(pool, error, rc, _("lock of volume '%s'"), name);
        lock_free(l);
        return NULL;
    }
    l->renewer = g_thread_new("sp-rbd-lease", renew_thread, l);
    return l;
}

gboolean
sp_rbd_lock_pair(SpRbdPool *pool, const char *a, const char *b, guint wait_ms,
                 SpRbdLock **la, SpRbdLock **lb, GError **error)
{
    gboolean a_first = g_strcmp0(a, b) <= 0;
    SpRbdLock **first = a_first ? la : lb;
    SpRbdLock **second = a_first ? lb : la;

    *la = *lb = NULL;
    if (!(*first = sp_rbd_lock(pool, a_first ? a : b, wait_ms, error)))
        return FALSE;
    if (!(*second = sp_rbd_lock(pool, a_first ? b : a, wait_ms, error))) {
        g_clear_pointer(first, sp_rbd_lock_release);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_rbd_lock_check(SpRbdLock *l, GError **error)
{
    int rc = lock_call(l, LIBRADOS_LOCK_FLAG_MUST_RENEW);

    g_mutex_lock(&l->mu);
    if (rc < 0 && !l->lost)
        l->lost = rc;
    rc = l->lost;
    g_mutex_unlock(&l->mu);
    if (rc < 0) {
        g_autofree char *shown = g_strescape(l->name, NULL);

        g_set_error(error, SP_ERROR, SP_ERROR_LOCKED,
                    _("volume '%s' in rbd pool '%s': the lock's lease was "
                      "lost (%s); stopped before changing anything public"),
                    shown, l->pool->name, g_strerror(-rc));
        return FALSE;
    }
    return TRUE;
}

void
sp_rbd_lock_release(SpRbdLock *l)
{
    if (!l)
        return;
    g_mutex_lock(&l->mu);
    l->stop = TRUE;
    g_cond_signal(&l->cond);
    g_mutex_unlock(&l->mu);
    g_thread_join(l->renewer);
    /* -ENOENT: the lease ran out already; nothing to give back */
    (void)rados_unlock(l->pool->io, l->oid, l->lockname, l->cookie);
    lock_free(l);
}
