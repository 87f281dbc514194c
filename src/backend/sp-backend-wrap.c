/* A libvirt fd stream with a wrapped driver table (see sp-backend-wrap.h).
 * The stream's private data stays libvirt's: safepool's state for a stream
 * lives in a table keyed by the stream. */
#include "backend/sp-backend-wrap.h"

#include <unistd.h>

#include "datatypes.h"
#include "virerror.h"
#include "virfdstream.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.wrap");

typedef struct {
    const SpStreamOps *ops;
    gpointer data;
    char *name;
    guint64 sent; /* data and holes the client sent that were taken */
    char *failed; /* why a send or hole failed, or NULL */
} SpWrap;

static GMutex sp_wrap_lock;
static GHashTable *sp_wraps;          /* virStreamPtr -> SpWrap* */
static virStreamDriver *sp_fd_driver; /* libvirt's fd stream driver */
static virStreamDriver sp_wrap_driver;

static void
sp_wrap_free(SpWrap *w)
{
    if (!w)
        return;
    if (w->ops->free)
        w->ops->free(w->data);
    g_free(w->name);
    g_free(w->failed);
    g_free(w);
}

/* The wrap of @st, or NULL once finished or aborted. Callbacks of one
 * stream are serialised by libvirt; the table itself is shared. */
static SpWrap *
sp_wrap_find(virStreamPtr st)
{
    SpWrap *w;

    g_mutex_lock(&sp_wrap_lock);
    w = sp_wraps ? g_hash_table_lookup(sp_wraps, st) : NULL;
    g_mutex_unlock(&sp_wrap_lock);
    return w;
}

static SpWrap *
sp_wrap_take(virStreamPtr st)
{
    SpWrap *w = NULL;

    g_mutex_lock(&sp_wrap_lock);
    /* (libvirt's glibcompat.h renames g_hash_table_steal_extended to a
     * symbol libvirt does not export: lookup + steal instead) */
    if (sp_wraps && (w = g_hash_table_lookup(sp_wraps, st)))
        g_hash_table_steal(sp_wraps, st);
    g_mutex_unlock(&sp_wrap_lock);
    return w;
}

/* Count what was taken, or remember the first reason a send failed:
 * @error, else libvirt's last error. */
static void
sp_wrap_note(SpWrap *w, gboolean ok, guint64 taken, const char *what,
             const GError *error)
{
    if (ok) {
        w->sent += taken;
    } else if (!w->failed) {
        virErrorPtr err = virGetLastError();
        const char *why = error                 ? error->message
                          : err && err->message ? err->message
                                                : _("failed");

        w->failed = g_strdup_printf("%s: %s", what, why);
    }
    virResetLastError();
}

static int
sp_wrap_send(virStreamPtr st, const char *data, size_t nbytes)
{
    SpWrap *w = sp_wrap_find(st);
    g_autoptr(GError) error = NULL;
    int n = (int)MIN(nbytes, (size_t)G_MAXINT);
    int ret;

    if (!w || !w->ops->commit)
        return sp_fd_driver->streamSend(st, data, nbytes);
    if (w->failed)
        return n;
    if (w->ops->write) {
        gboolean ok = w->ops->write(w->data, data, (gsize)n, &error);

        sp_wrap_note(w, ok, (guint64)n, _("write"), error);
        return n;
    }
    ret = sp_fd_driver->streamSend(st, data, nbytes);
    /* -2: would block, nothing written, the client tries again */
    if (ret == -2)
        return ret;
    sp_wrap_note(w, ret >= 0, ret >= 0 ? (guint64)ret : 0, _("write"), NULL);
    return ret < 0 ? n : ret;
}

static int
sp_wrap_send_hole(virStreamPtr st, long long length, unsigned int flags)
{
    SpWrap *w = sp_wrap_find(st);
    g_autoptr(GError) error = NULL;
    gboolean ok;

    if (!w)
        return sp_fd_driver->streamSendHole(st, length, flags);
    if (!w->ops->commit) /* a download: the daemon skips a hole it sent */
        return !w->ops->skip || w->ops->skip(w->data, (guint64)length, NULL)
                   ? 0
                   : -1;
    if (w->failed)
        return 0;
    if (length < 0) {
        ok = FALSE;
        g_set_error(&error, SP_ERROR, SP_ERROR_INVALID, _("negative hole"));
    } else if (w->ops->hole) {
        ok = w->ops->hole(w->data, (guint64)length, &error);
    } else {
        ok = sp_fd_driver->streamSendHole(st, length, flags) >= 0;
    }
    sp_wrap_note(w, ok, ok ? (guint64)length : 0, _("hole"), error);
    return 0;
}

static int
sp_wrap_recv(virStreamPtr st, char *data, size_t nbytes)
{
    SpWrap *w = sp_wrap_find(st);
    g_autoptr(GError) error = NULL;
    gssize n;

    if (!w || !w->ops->read)
        return sp_fd_driver->streamRecv(st, data, nbytes);
    n = w->ops->read(w->data, data, MIN(nbytes, (size_t)G_MAXINT), &error);
    if (n < 0) {
        sp_backend_report(error);
        return -1;
    }
    return (int)n;
}

static int
sp_wrap_in_data(virStreamPtr st, int *in_data, long long *length)
{
    SpWrap *w = sp_wrap_find(st);
    g_autoptr(GError) error = NULL;
    gboolean data = FALSE;
    guint64 len = 0;

    if (!w || !w->ops->in_data)
        return sp_fd_driver->streamInData(st, in_data, length);
    if (!w->ops->in_data(w->data, &data, &len, &error)) {
        sp_backend_report(error);
        return -1;
    }
    *in_data = data;
    *length = (long long)MIN(len, (guint64)G_MAXINT64);
    return 0;
}

static int
sp_wrap_finish(virStreamPtr st)
{
    SpWrap *w = sp_wrap_take(st);
    g_autoptr(GError) error = NULL;

    if (w && w->ops->commit) {
        if (w->failed)
            g_set_error(&error, SP_ERROR, SP_ERROR_FAILED,
                        _("upload into volume '%s': %s"), w->name, w->failed);
        else
            w->ops->commit(w->data, w->sent, &error);
        if (error) {
            VIR_WARN("safepool: %s", error->message);
            sp_fd_driver->streamAbort(st);
            sp_wrap_free(w);
            sp_backend_report(error);
            return -1;
        }
    }
    sp_wrap_free(w);
    /* Only now: libvirt's close callback refreshes the pool, which must
     * see the new volume. */
    return sp_fd_driver->streamFinish(st);
}

static int
sp_wrap_abort(virStreamPtr st)
{
    SpWrap *w = sp_wrap_take(st);
    int ret = sp_fd_driver->streamAbort(st);

    sp_wrap_free(w);
    return ret;
}

int
sp_backend_stream_wrap(virStreamPtr st, int fd, const char *name,
                       const SpStreamOps *ops, gpointer data)
{
    SpWrap *w = g_new0(SpWrap, 1);

    w->ops = ops;
    w->data = data;
    w->name = g_strdup(name);
    if (virFDStreamOpen(st, fd) < 0) {
        close(fd);
        sp_wrap_free(w);
        return -1;
    }
    g_mutex_lock(&sp_wrap_lock);
    if (!sp_fd_driver) {
        sp_fd_driver = st->driver;
        sp_wrap_driver = *sp_fd_driver;
        sp_wrap_driver.streamSend = sp_wrap_send;
        sp_wrap_driver.streamSendHole = sp_wrap_send_hole;
        sp_wrap_driver.streamRecv = sp_wrap_recv;
        sp_wrap_driver.streamInData = sp_wrap_in_data;
        sp_wrap_driver.streamFinish = sp_wrap_finish;
        sp_wrap_driver.streamAbort = sp_wrap_abort;
    }
    if (!sp_wraps)
        sp_wraps = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_hash_table_insert(sp_wraps, st, w);
    st->driver = &sp_wrap_driver;
    g_mutex_unlock(&sp_wrap_lock);
    return 0;
}
