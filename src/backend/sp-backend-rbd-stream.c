/* Upload and download of RBD volumes through libvirt streams.
 *
 * An RBD image has no fd to hand to libvirt's fd stream, yet the storage
 * driver needs an fd stream (its close callback refreshes the pool) and
 * the daemon needs its event callbacks. So the stream is libvirt's fd
 * stream over /dev/null (upload: always writable) or /dev/zero (download:
 * always readable), and its driver table is wrapped: data, holes and
 * "in data?" go to librbd instead of the fd. As for dir uploads, a failed
 * write is remembered, not returned (the daemon would abort the stream
 * out of the client's sight), and virStreamFinish reports it; finishing
 * an upload inspects the new image and only then replaces the volume.
 * The stream's private data stays libvirt's. */
#include "backend/sp-backend-rbd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "datatypes.h"
#include "virerror.h"
#include "virfdstream.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.rbd.stream");

typedef struct {
    SpPolicy *policy;
    SpRbdPool *pool;
    SpRbdUpload *up;   /* upload, or */
    SpRbdReader *down; /* download */
    char *name;
    char *failed; /* why an upload's write failed, or NULL */
} SpRbdStreamCtx;

static void
ctx_free(SpRbdStreamCtx *c)
{
    if (!c)
        return;
    sp_rbd_upload_free(c->up); /* removes an uncommitted temporary */
    sp_rbd_reader_free(c->down);
    sp_rbd_pool_free(c->pool);
    sp_policy_free(c->policy);
    g_free(c->name);
    g_free(c->failed);
    g_free(c);
}

static GMutex sp_streams_lock;
static GHashTable *sp_streams;        /* virStreamPtr -> SpRbdStreamCtx* */
static virStreamDriver *sp_fd_driver; /* libvirt's fd stream driver */
static virStreamDriver sp_wrap_driver;

static SpRbdStreamCtx *
ctx_find(virStreamPtr st)
{
    SpRbdStreamCtx *c;

    g_mutex_lock(&sp_streams_lock);
    c = sp_streams ? g_hash_table_lookup(sp_streams, st) : NULL;
    g_mutex_unlock(&sp_streams_lock);
    return c;
}

static SpRbdStreamCtx *
ctx_take(virStreamPtr st)
{
    SpRbdStreamCtx *c = NULL;

    g_mutex_lock(&sp_streams_lock);
    /* (lookup + steal: libvirt renames g_hash_table_steal_extended) */
    if (sp_streams && (c = g_hash_table_lookup(sp_streams, st)))
        g_hash_table_steal(sp_streams, st);
    g_mutex_unlock(&sp_streams_lock);
    return c;
}

static void
remember(SpRbdStreamCtx *c, GError *error)
{
    if (!c->failed)
        c->failed = g_strdup(error->message);
}

/* -- the wrapped driver ---------------------------------------------------- */

static int
wrap_send(virStreamPtr st, const char *data, size_t nbytes)
{
    SpRbdStreamCtx *c = ctx_find(st);
    g_autoptr(GError) error = NULL;
    int n = (int)MIN(nbytes, (size_t)G_MAXINT);

    if (!c || !c->up)
        return sp_fd_driver->streamSend(st, data, nbytes);
    if (!c->failed && !sp_rbd_upload_write(c->up, data, (gsize)n, &error))
        remember(c, error);
    return n;
}

static int
wrap_send_hole(virStreamPtr st, long long length, unsigned int flags)
{
    SpRbdStreamCtx *c = ctx_find(st);
    g_autoptr(GError) error = NULL;

    if (!c)
        return sp_fd_driver->streamSendHole(st, length, flags);
    if (c->down) /* the daemon skips locally what it sent as a hole */
        return sp_rbd_reader_skip(c->down, (guint64)length, NULL) ? 0 : -1;
    if (length < 0) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", _("negative hole"));
        return -1;
    }
    if (!c->failed && !sp_rbd_upload_hole(c->up, (guint64)length, &error))
        remember(c, error);
    return 0;
}

static int
wrap_recv(virStreamPtr st, char *data, size_t nbytes)
{
    SpRbdStreamCtx *c = ctx_find(st);
    g_autoptr(GError) error = NULL;
    gssize n;

    if (!c || !c->down)
        return sp_fd_driver->streamRecv(st, data, nbytes);
    n = sp_rbd_reader_read(c->down, data, MIN(nbytes, (size_t)G_MAXINT),
                           &error);
    if (n < 0) {
        sp_backend_report(error);
        return -1;
    }
    return (int)n;
}

static int
wrap_in_data(virStreamPtr st, int *in_data, long long *length)
{
    SpRbdStreamCtx *c = ctx_find(st);
    g_autoptr(GError) error = NULL;
    gboolean data = FALSE;
    guint64 len = 0;

    if (!c || !c->down)
        return sp_fd_driver->streamInData(st, in_data, length);
    if (!sp_rbd_reader_in_data(c->down, &data, &len, &error)) {
        sp_backend_report(error);
        return -1;
    }
    *in_data = data;
    *length = (long long)MIN(len, (guint64)G_MAXINT64);
    return 0;
}

static int
wrap_finish(virStreamPtr st)
{
    SpRbdStreamCtx *c = ctx_take(st);
    g_autoptr(GError) error = NULL;

    if (c && c->up) {
        if (c->failed) {
            g_set_error(&error, SP_ERROR, SP_ERROR_FAILED,
                        _("upload into volume '%s': %s"), c->name, c->failed);
        } else if (!sp_rbd_upload_commit(c->up, &error)) {
            /* the message says it */
        }
        if (error) {
            VIR_WARN("safepool: %s", error->message);
            sp_fd_driver->streamAbort(st);
            ctx_free(c);
            sp_backend_report(error);
            return -1;
        }
    }
    ctx_free(c);
    /* only now: libvirt's close callback refreshes the pool, which must
     * see the new content */
    return sp_fd_driver->streamFinish(st);
}

static int
wrap_abort(virStreamPtr st)
{
    SpRbdStreamCtx *c = ctx_take(st);
    int ret = sp_fd_driver->streamAbort(st);

    ctx_free(c);
    return ret;
}

/* Put @c behind @st: an fd stream over @device, its table wrapped. */
static int
wrap(virStreamPtr st, SpRbdStreamCtx *c, const char *device, int oflags)
{
    int fd = open(device, oflags | O_CLOEXEC);

    if (fd < 0) {
        virReportSystemError(errno, _("cannot open %s"), device);
        ctx_free(c);
        return -1;
    }
    if (virFDStreamOpen(st, fd) < 0) {
        close(fd);
        ctx_free(c);
        return -1;
    }
    g_mutex_lock(&sp_streams_lock);
    if (!sp_fd_driver) {
        sp_fd_driver = st->driver;
        sp_wrap_driver = *sp_fd_driver;
        sp_wrap_driver.streamSend = wrap_send;
        sp_wrap_driver.streamSendHole = wrap_send_hole;
        sp_wrap_driver.streamRecv = wrap_recv;
        sp_wrap_driver.streamInData = wrap_in_data;
        sp_wrap_driver.streamFinish = wrap_finish;
        sp_wrap_driver.streamAbort = wrap_abort;
    }
    if (!sp_streams)
        sp_streams = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_hash_table_insert(sp_streams, st, c);
    st->driver = &sp_wrap_driver;
    g_mutex_unlock(&sp_streams_lock);
    return 0;
}

static const SpFlagName sp_upload_flags[] = {
    {VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
     "VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM"},
    {0, NULL},
};

static const SpFlagName sp_download_flags[] = {
    {VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
     "VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM"},
    {0, NULL},
};

int
sp_rbd_upload_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                  virStreamPtr stream, unsigned long long offset,
                  unsigned long long len, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    SpRbdStreamCtx *c;

    if (!sp_backend_check_flags(flags, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
                                sp_upload_flags, vol->name))
        return -1;
    if (offset != 0 || len != 0) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("upload into volume '%s': --offset/--length are not "
                         "supported (safepool replaces and inspects whole "
                         "images)"),
                       vol->name);
        return -1;
    }
    c = g_new0(SpRbdStreamCtx, 1);
    c->name = g_strdup(vol->name);
    if (!sp_rbd_backend_open(obj, &c->policy, &c->pool, FALSE, &error) ||
        !(c->up = sp_rbd_upload_begin(c->pool, vol->name, &error))) {
        ctx_free(c);
        sp_backend_report(error);
        return -1;
    }
    return wrap(stream, c, "/dev/null", O_WRONLY);
}

int
sp_rbd_download_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                    virStreamPtr stream, unsigned long long offset,
                    unsigned long long len, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    SpRbdStreamCtx *c;

    if (!sp_backend_check_flags(flags, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
                                sp_download_flags, vol->name))
        return -1;
    c = g_new0(SpRbdStreamCtx, 1);
    c->name = g_strdup(vol->name);
    if (!sp_rbd_backend_open(obj, &c->policy, &c->pool, FALSE, &error) ||
        !(c->down =
              sp_rbd_reader_open(c->pool, vol->name, offset, len, &error))) {
        ctx_free(c);
        sp_backend_report(error);
        return -1;
    }
    return wrap(stream, c, "/dev/zero", O_RDONLY);
}
