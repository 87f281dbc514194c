/* Upload, download and wipe of dir pool volumes.
 *
 * A download is libvirt's own file stream with its I/O thread, as the
 * stock backend's (a plain fd stream reads in the daemon's event loop,
 * slow under load, and its sparse skip truncates the fd it reads),
 * opened through /proc/self/fd on the file safepool opened beneath the
 * pool: the magic link names that very inode, no path is followed again.
 *
 * An upload goes into a hidden temporary through a plain fd stream, its
 * driver wrapped (sp-backend-wrap.h): each write and hole has landed (or
 * failed) when its call returns, so nothing is pending when the client
 * finishes. libvirt 9.0's threaded stream would lose a write error at
 * close, and run the storage driver's close callback (the pool refresh)
 * before safepool could replace the volume. At the client's finish the
 * temporary must hold exactly what was sent; it is inspected and replaces
 * the volume atomically. */
#include "backend/sp-backend-wrap.h"

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
} SpUploadCtx;

static void
sp_upload_ctx_free(gpointer data)
{
    SpUploadCtx *c = data;

    if (!c)
        return;
    sp_upload_free(c->upload); /* removes an uncommitted temporary */
    sp_pool_free(c->pool);
    sp_policy_free(c->policy);
    g_free(c);
}

/* The temporary holds exactly what the client sent: then inspect it and
 * replace the volume atomically. */
static gboolean
sp_upload_stream_commit(gpointer data, guint64 sent, GError **error)
{
    SpUploadCtx *c = data;
    const char *name = sp_upload_name(c->upload);
    struct stat st;

    if (fstat(sp_upload_fd(c->upload), &st) < 0)
        return sp_error_set_errno(error, errno, _("upload into volume '%s'"),
                                  name);
    if ((guint64)st.st_size != sent) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("upload into volume '%s': %" G_GUINT64_FORMAT
                      " bytes were sent but %" G_GUINT64_FORMAT " landed"),
                    name, sent, (guint64)st.st_size);
        return FALSE;
    }
    return sp_upload_commit(c->upload, error);
}

/* Data and holes go into the temporary's fd through libvirt's driver. */
static const SpStreamOps sp_upload_ops = {
    .commit = sp_upload_stream_commit,
    .free = sp_upload_ctx_free,
};

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

int
sp_backend_upload_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                      virStreamPtr stream, unsigned long long offset,
                      unsigned long long len, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    SpUploadCtx *c;
    int fd;

    if (!sp_backend_upload_args(vol->name, offset, len, flags))
        return -1;
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
    return sp_backend_stream_wrap(stream, fd, vol->name, &sp_upload_ops, c);
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

    if (!sp_backend_download_args(vol->name, flags))
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

    if (!sp_backend_wipe_args(vol->name, algorithm, flags))
        return -1;
    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !sp_pool_wipe(pool, vol->name, &error)) {
        sp_backend_report(error);
        return -1;
    }
    return 0;
}
