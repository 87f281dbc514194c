/* Upload, download and wipe.
 *
 * Streams use libvirt's own file streams with their I/O thread, as the
 * stock backend does (a plain fd stream does its file I/O in the daemon's
 * event loop, slow under load), opened through /proc/self/fd on a file
 * safepool opened beneath the pool: the magic link names that very inode,
 * so no path is followed again.
 *
 * An upload must not change the volume before its content has passed the
 * inspector, and every failure must reach the client. The bytes go into a
 * hidden temporary; the stream's driver table is wrapped so that the
 * client's virStreamFinish first lets libvirt's thread finish writing (a
 * failure there, such as a hole that cannot be applied, is the client's
 * error), then runs the inspection and the atomic replacement. The
 * stream's private data stays libvirt's, so the storage driver's own close
 * callback (pool refresh) keeps working. */
#include "backend/sp-backend.h"

#include <fcntl.h>
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
} SpUploadCtx;

static void
sp_upload_ctx_free(SpUploadCtx *c)
{
    if (!c)
        return;
    sp_upload_free(c->upload);     /* removes an uncommitted temporary */
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
static GHashTable *sp_uploads;          /* virStreamPtr -> SpUploadCtx* */
static virStreamDriver *sp_fd_driver;   /* libvirt's fd stream driver */
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

static int
sp_upload_stream_finish(virStreamPtr st)
{
    SpUploadCtx *c = sp_upload_take(st);
    g_autoptr(GError) error = NULL;
    int ret;

    /* libvirt 9.0's file stream loses its thread's error on close (the
     * close's own status overwrites it) but leaves it set: look at both. */
    virResetLastError();
    ret = sp_fd_driver->streamFinish(st);
    if (ret < 0 || virGetLastError()) {
        VIR_WARN("safepool: upload failed before the end of the stream");
        sp_upload_ctx_free(c);
        return -1;
    }
    if (c && !sp_upload_commit(c->upload, &error)) {
        VIR_WARN("safepool: %s", error->message);
        sp_backend_report(error);
        ret = -1;
    }
    sp_upload_ctx_free(c);
    return ret;
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

    if (!sp_backend_check_flags(flags, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
                                sp_upload_flags, vol->name))
        return -1;
    if (offset != 0 || len != 0) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("upload into volume '%s': --offset/--length are not "
                         "supported (safepool replaces and inspects whole "
                         "images)"), vol->name);
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
    if (sp_stream_open_fd(stream, sp_upload_fd(c->upload), 0, 0,
                          flags & VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
                          O_WRONLY) < 0) {
        sp_upload_ctx_free(c);
        return -1;
    }
    g_mutex_lock(&sp_uploads_lock);
    if (!sp_fd_driver) {
        sp_fd_driver = stream->driver;
        sp_upload_driver = *sp_fd_driver;
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
        (fd = sp_fs_openat(sp_pool_fd(pool), vol->name, O_RDONLY, 0,
                           &error)) < 0) {
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
                         "supported"), vol->name);
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
