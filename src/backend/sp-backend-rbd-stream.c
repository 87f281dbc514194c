/* Upload and download of RBD volumes through libvirt streams.
 *
 * An RBD image has no fd to hand to libvirt's fd stream, yet the storage
 * driver needs an fd stream (its close callback refreshes the pool) and
 * the daemon needs its event callbacks. So the stream is libvirt's fd
 * stream over /dev/null (upload) or /dev/zero (download), wrapped as the
 * dir module's uploads are (sp-backend-wrap.h): data, holes and "in
 * data?" go to librbd instead of the fd; finishing an upload inspects the
 * new image and only then replaces the volume. */
#include "backend/sp-backend-rbd.h"
#include "backend/sp-backend-wrap.h"

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
} SpRbdStreamCtx;

static void
ctx_free(gpointer data)
{
    SpRbdStreamCtx *c = data;

    if (!c)
        return;
    sp_rbd_upload_free(c->up); /* removes an uncommitted temporary */
    sp_rbd_reader_free(c->down);
    sp_rbd_pool_free(c->pool);
    sp_policy_free(c->policy);
    g_free(c);
}

static gboolean
up_write(gpointer data, const char *buf, gsize len, GError **error)
{
    return sp_rbd_upload_write(((SpRbdStreamCtx *)data)->up, buf, len, error);
}

static gboolean
up_hole(gpointer data, guint64 len, GError **error)
{
    return sp_rbd_upload_hole(((SpRbdStreamCtx *)data)->up, len, error);
}

static gboolean
up_commit(gpointer data, guint64 sent, GError **error)
{
    return sp_rbd_upload_commit(((SpRbdStreamCtx *)data)->up, error);
}

static gssize
down_read(gpointer data, char *buf, gsize len, GError **error)
{
    return sp_rbd_reader_read(((SpRbdStreamCtx *)data)->down, buf, len, error);
}

static gboolean
down_in_data(gpointer data, gboolean *in_data, guint64 *len, GError **error)
{
    return sp_rbd_reader_in_data(((SpRbdStreamCtx *)data)->down, in_data, len,
                                 error);
}

static gboolean
down_skip(gpointer data, guint64 len, GError **error)
{
    return sp_rbd_reader_skip(((SpRbdStreamCtx *)data)->down, len, error);
}

static const SpStreamOps sp_rbd_upload_ops = {
    .write = up_write,
    .hole = up_hole,
    .commit = up_commit,
    .free = ctx_free,
};

static const SpStreamOps sp_rbd_download_ops = {
    .read = down_read,
    .in_data = down_in_data,
    .skip = down_skip,
    .free = ctx_free,
};

/* Put @c behind @st: an fd stream over @device (upload: /dev/null, always
 * writable; download: /dev/zero, always readable), its table wrapped. */
static int
wrap(virStreamPtr st, const char *name, SpRbdStreamCtx *c,
     const SpStreamOps *ops, const char *device, int oflags)
{
    int fd = open(device, oflags | O_CLOEXEC);

    if (fd < 0) {
        virReportSystemError(errno, _("cannot open %s"), device);
        ctx_free(c);
        return -1;
    }
    return sp_backend_stream_wrap(st, fd, name, ops, c);
}

int
sp_rbd_upload_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                  virStreamPtr stream, unsigned long long offset,
                  unsigned long long len, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    SpRbdStreamCtx *c;

    if (!sp_backend_upload_args(vol->name, offset, len, flags))
        return -1;
    c = g_new0(SpRbdStreamCtx, 1);
    if (!sp_rbd_backend_open(obj, &c->policy, &c->pool, FALSE, &error) ||
        !(c->up = sp_rbd_upload_begin(c->pool, vol->name, &error))) {
        ctx_free(c);
        sp_backend_report(error);
        return -1;
    }
    return wrap(stream, vol->name, c, &sp_rbd_upload_ops, "/dev/null",
                O_WRONLY);
}

int
sp_rbd_download_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                    virStreamPtr stream, unsigned long long offset,
                    unsigned long long len, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    SpRbdStreamCtx *c;

    if (!sp_backend_download_args(vol->name, flags))
        return -1;
    c = g_new0(SpRbdStreamCtx, 1);
    if (!sp_rbd_backend_open(obj, &c->policy, &c->pool, FALSE, &error) ||
        !(c->down =
              sp_rbd_reader_open(c->pool, vol->name, offset, len, &error))) {
        ctx_free(c);
        sp_backend_report(error);
        return -1;
    }
    return wrap(stream, vol->name, c, &sp_rbd_download_ops, "/dev/zero",
                O_RDONLY);
}
