/* Upload, download and wipe.
 *
 * A download is libvirt's own file stream with its I/O thread, as the
 * stock backend's (a plain fd stream reads in the daemon's event loop,
 * slow under load, and its sparse skip truncates the fd it reads),
 * opened through /proc/self/fd on the file safepool opened beneath the
 * pool: the magic link names that very inode, no path is followed again.
 *
 * An upload must not change the volume before its content has passed the
 * inspector, and every failure must reach the client. The bytes go into a
 * hidden temporary through a plain fd stream: each write and hole has
 * landed (or failed) when its call returns, so nothing is pending when the
 * client finishes. libvirt 9.0's threaded stream would lose a write error
 * at close, and run the storage driver's close callback (the pool
 * refresh) before safepool could replace the volume. The stream's driver
 * table is wrapped: data and holes are counted, and a failed write or
 * hole is remembered, not returned (the daemon would abort the stream and
 * the client's virStreamFinish would not see why); later data is then
 * dropped. The client's virStreamFinish fails with that reason, or checks
 * the temporary holds exactly what was sent, inspects it and replaces the
 * volume atomically, then lets libvirt close the stream (whose callback
 * refreshes the pool). The stream's private data stays libvirt's. */
#include "backend/sp-backend.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datatypes.h"
#include "virerror.h"
#include "virfdstream.h"
#include "virlog.h"

#include "image/sp-upload.h"
#include "util/sp-fs.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.stream");

typedef struct {
    SpPolicy *policy;
    SpPool *pool;
    SpUpload *upload;
    guint64 sent; /* data and holes the client sent that landed */
    char *failed; /* why a send or hole failed, or NULL */
} SpUploadCtx;

static void
sp_upload_ctx_free(SpUploadCtx *c)
{
    if (!c)
        return;
    sp_upload_free(c->upload); /* removes an uncommitted temporary */
    g_free(c->failed);
    sp_pool_free(c->pool);
    sp_policy_free(c->policy);
    g_free(c);
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

static GMutex sp_uploads_lock;
static GHashTable *sp_uploads;        /* virStreamPtr -> SpUploadCtx* */
static virStreamDriver *sp_fd_driver; /* libvirt's fd stream driver */
static virStreamDriver sp_upload_driver;

static SpUploadCtx *
sp_upload_take(virStreamPtr st)
{
    SpUploadCtx *c = NULL;

    g_mutex_lock(&sp_uploads_lock);
    /* (libvirt's glibcompat.h renames g_hash_table_steal_extended to a
     * symbol libvirt does not export: lookup + steal instead) */
    if (sp_uploads && (c = g_hash_table_lookup(sp_uploads, st)))
        g_hash_table_steal(sp_uploads, st);
    g_mutex_unlock(&sp_uploads_lock);
    return c;
}

/* The upload of @st, under the lock (NULL once finished or aborted). */
static SpUploadCtx *
sp_upload_find(virStreamPtr st)
{
    return sp_uploads ? g_hash_table_lookup(sp_uploads, st) : NULL;
}

/* Whether the upload already failed: what comes after is dropped. */
static gboolean
sp_upload_failed(virStreamPtr st)
{
    SpUploadCtx *c;
    gboolean failed;

    g_mutex_lock(&sp_uploads_lock);
    c = sp_upload_find(st);
    failed = c && c->failed;
    g_mutex_unlock(&sp_uploads_lock);
    return failed;
}

/* Count what landed, or remember why a write or hole failed. */
static void
sp_upload_note(virStreamPtr st, long long landed, const char *what)
{
    SpUploadCtx *c;

    g_mutex_lock(&sp_uploads_lock);
    c = sp_upload_find(st);
    if (c && landed >= 0)
        c->sent += (guint64)landed;
    if (c && landed < 0 && !c->failed) {
        virErrorPtr err = virGetLastError();

        c->failed = g_strdup_printf(
            "%s: %s", what, err && err->message ? err->message : _("failed"));
    }
    g_mutex_unlock(&sp_uploads_lock);
    virResetLastError();
}

static int
sp_upload_stream_send(virStreamPtr st, const char *data, size_t nbytes)
{
    int ret;

    if (sp_upload_failed(st))
        return (int)MIN(nbytes, (size_t)G_MAXINT);
    ret = sp_fd_driver->streamSend(st, data, nbytes);
    /* -2: would block, nothing written, the client tries again */
    if (ret == -2)
        return ret;
    sp_upload_note(st, ret, _("write"));
    return ret < 0 ? (int)MIN(nbytes, (size_t)G_MAXINT) : ret;
}

static int
sp_upload_stream_send_hole(virStreamPtr st, long long length,
                           unsigned int flags)
{
    int ret;

    if (sp_upload_failed(st))
        return 0;
    ret = sp_fd_driver->streamSendHole(st, length, flags);
    sp_upload_note(st, ret < 0 ? -1 : length, _("hole"));
    return 0;
}

/* The temporary holds exactly what the client sent, nothing failed. */
static gboolean
sp_upload_complete(const SpUploadCtx *c, const char *name, GError **error)
{
    struct stat st;

    if (c->failed) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("upload into volume '%s': %s"), name, c->failed);
        return FALSE;
    }
    if (fstat(sp_upload_fd(c->upload), &st) < 0)
        return sp_error_set_errno(error, errno, _("upload into volume '%s'"),
                                  name);
    if ((guint64)st.st_size != c->sent) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("upload into volume '%s': %" G_GUINT64_FORMAT
                      " bytes were sent but %" G_GUINT64_FORMAT " landed"),
                    name, c->sent, (guint64)st.st_size);
        return FALSE;
    }
    return TRUE;
}

static int
sp_upload_stream_finish(virStreamPtr st)
{
    SpUploadCtx *c = sp_upload_take(st);
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;

    if (!c)
        return sp_fd_driver->streamFinish(st);
    name = g_strdup(sp_upload_name(c->upload));
    if (!sp_upload_complete(c, name, &error) ||
        !sp_upload_commit(c->upload, &error)) {
        VIR_WARN("safepool: %s", error->message);
        sp_fd_driver->streamAbort(st);
        sp_upload_ctx_free(c);
        sp_backend_report(error);
        return -1;
    }
    sp_upload_ctx_free(c);
    /* Only now: libvirt's close callback refreshes the pool, which must
     * see the new volume. */
    return sp_fd_driver->streamFinish(st);
}

/* libvirt's file stream for the open file @fd (not a path: the fd's own
 * inode, through its magic link), with libvirt's I/O thread. */
static int
sp_stream_open_fd(virStreamPtr stream, int fd, unsigned long long offset,
                  unsigned long long len, bool sparse, int oflags)
{
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);

    return virFDStreamOpenBlockDevice(stream, path, offset, len, sparse,
                                      oflags);
}

static int
sp_upload_stream_abort(virStreamPtr st)
{
    SpUploadCtx *c = sp_upload_take(st);
    int ret = sp_fd_driver->streamAbort(st);

    sp_upload_ctx_free(c);
    return ret;
}

int
sp_backend_upload_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                      virStreamPtr stream, unsigned long long offset,
                      unsigned long long len, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    SpUploadCtx *c;
    int fd;

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
    c = g_new0(SpUploadCtx, 1);
    if (!(c->policy = sp_backend_policy(&error)) ||
        !(c->pool = sp_backend_pool_open(obj, c->policy, FALSE, &error)) ||
        !(c->upload = sp_upload_begin(c->pool, vol->name, &error))) {
        sp_upload_ctx_free(c);
        sp_backend_report(error);
        return -1;
    }
    if ((fd = fcntl(sp_upload_fd(c->upload), F_DUPFD_CLOEXEC, 3)) < 0) {
        virReportSystemError(errno, _("upload into volume '%s'"), vol->name);
        sp_upload_ctx_free(c);
        return -1;
    }
    if (virFDStreamOpen(stream, fd) < 0) {
        close(fd);
        sp_upload_ctx_free(c);
        return -1;
    }
    g_mutex_lock(&sp_uploads_lock);
    if (!sp_fd_driver) {
        sp_fd_driver = stream->driver;
        sp_upload_driver = *sp_fd_driver;
        sp_upload_driver.streamSend = sp_upload_stream_send;
        sp_upload_driver.streamSendHole = sp_upload_stream_send_hole;
        sp_upload_driver.streamFinish = sp_upload_stream_finish;
        sp_upload_driver.streamAbort = sp_upload_stream_abort;
    }
    if (!sp_uploads)
        sp_uploads = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_hash_table_insert(sp_uploads, stream, c);
    stream->driver = &sp_upload_driver;
    g_mutex_unlock(&sp_uploads_lock);
    return 0;
}

int
sp_backend_download_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                        virStreamPtr stream, unsigned long long offset,
                        unsigned long long len, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autofd int fd = -1;

    if (!sp_backend_check_flags(flags, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
                                sp_download_flags, vol->name))
        return -1;
    /* opened beneath the pool without following symlinks, unlike the
     * stock helper that opens vol->target.path */
    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !sp_volume_check_name(vol->name, &error) ||
        (fd = sp_fs_openat(sp_pool_fd(pool), vol->name, O_RDONLY, 0, &error)) <
            0) {
        sp_backend_report(error);
        return -1;
    }
    return sp_stream_open_fd(stream, fd, offset, len,
                             flags & VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
                             O_RDONLY);
}

int
sp_backend_wipe_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                    unsigned int algorithm, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;

    if (!sp_backend_check_flags(flags, 0, NULL, vol->name))
        return -1;
    if (algorithm != VIR_STORAGE_VOL_WIPE_ALG_ZERO) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("wipe of volume '%s': only the zero algorithm is "
                         "supported"),
                       vol->name);
        return -1;
    }
    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !sp_pool_wipe(pool, vol->name, &error)) {
        sp_backend_report(error);
        return -1;
    }
    return 0;
}
