/* Sparse-preserving file copy: reflink when the filesystem can, else copy
 * only the data extents (SEEK_DATA/SEEK_HOLE) so holes stay holes. */
#include "util/sp-fs.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

#define SP_COPY_BUF (1024 * 1024)
/* copy_file_range per call: small enough for progress to move (a few per
 * second on a disk), big enough that the calls cost nothing. */
#define SP_COPY_CHUNK ((guint64)64 << 20)

typedef struct {
    const SpProgress *progress;
    guint64 len;
} SpCopyReport;

static void
sp_copy_report(const SpCopyReport *r, guint64 off)
{
    sp_progress_report(r->progress, off, r->len);
}

/* errno values meaning "this method is not available here", not a failure. */
static gboolean
sp_copy_unsupported(int errsv)
{
    return errsv == EXDEV || errsv == ENOSYS || errsv == EOPNOTSUPP ||
           errsv == EINVAL || errsv == ENOTTY;
}

static gboolean
sp_copy_range_rw(int in, int out, guint64 off, guint64 end,
                 const SpCopyReport *r, GError **error)
{
    g_autofree char *buf = g_malloc(SP_COPY_BUF);

    while (off < end) {
        gsize want = (gsize)MIN((guint64)SP_COPY_BUF, end - off);
        gssize n = sp_fs_pread_full(in, buf, want, off, error);
        gsize done = 0;

        if (n < 0)
            return FALSE;
        if (n == 0)
            break; /* source shrank: the rest stays a hole */
        while (done < (gsize)n) {
            ssize_t w =
                pwrite(out, buf + done, (gsize)n - done, (off_t)(off + done));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return sp_error_set_errno(error, errno,
                                          _("copy: write at offset %" PRIu64),
                                          off + done);
            }
            done += (gsize)w;
        }
        off += (guint64)n;
        sp_copy_report(r, off);
    }
    return TRUE;
}

/* Copy [off, end) with copy_file_range; on "unsupported" switch *use_cfr off
 * and finish the range with read/write. */
static gboolean
sp_copy_range(int in, int out, guint64 off, guint64 end, gboolean *use_cfr,
              const SpCopyReport *r, GError **error)
{
    while (*use_cfr && off < end) {
        loff_t ioff = (loff_t)off, ooff = (loff_t)off;
        ssize_t n = copy_file_range(in, &ioff, out, &ooff,
                                    (gsize)MIN(end - off, SP_COPY_CHUNK), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (sp_copy_unsupported(errno)) {
                *use_cfr = FALSE;
                break;
            }
            return sp_error_set_errno(
                error, errno, _("copy: copy_file_range at offset %" PRIu64),
                off);
        }
        if (n == 0)
            return TRUE; /* source shrank */
        off += (guint64)n;
        sp_copy_report(r, off);
    }
    if (off < end)
        return sp_copy_range_rw(in, out, off, end, r, error);
    return TRUE;
}

gboolean
sp_fs_copy_sparse(int in, int out, guint64 len, SpFsReflink reflink,
                  const char **method, const SpProgress *progress,
                  GError **error)
{
    SpCopyReport r = {progress, len};
    gboolean use_cfr = TRUE;
    guint64 off = 0;
    struct stat st;

    if (fstat(in, &st) < 0)
        return sp_error_set_errno(error, errno, _("copy: source"));

    /* FICLONE copies the whole file, so only when that is what was asked. */
    if (reflink != SP_FS_REFLINK_NEVER && (guint64)st.st_size == len) {
        if (ioctl(out, FICLONE, in) == 0) {
            if (method)
                *method = "reflink";
            sp_copy_report(&r, len);
            return TRUE;
        }
        if ((!sp_copy_unsupported(errno) && errno != EBADF) ||
            reflink == SP_FS_REFLINK_ONLY)
            return sp_error_set_errno(error, errno, _("copy: reflink"));
    } else if (reflink == SP_FS_REFLINK_ONLY) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("copy: reflink: the source is not %" PRIu64 " bytes "
                      "long"),
                    len);
        return FALSE;
    }

    while (off < len) {
        off_t data = lseek(in, (off_t)off, SEEK_DATA);
        off_t hole;

        if (data < 0) {
            if (errno == ENXIO)
                break; /* only a hole remains */
            if (errno != EINVAL && errno != EOPNOTSUPP)
                return sp_error_set_errno(error, errno, _("copy: SEEK_DATA"));
            data = (off_t)off; /* no SEEK_DATA here: treat all as data */
            hole = (off_t)len;
        } else {
            hole = lseek(in, data, SEEK_HOLE);
            if (hole < 0)
                return sp_error_set_errno(error, errno, _("copy: SEEK_HOLE"));
        }
        if ((guint64)data >= len)
            break;
        if ((guint64)hole > len)
            hole = (off_t)len;
        if (!sp_copy_range(in, out, (guint64)data, (guint64)hole, &use_cfr, &r,
                           error))
            return FALSE;
        off = (guint64)hole;
        sp_copy_report(&r, off); /* a hole is done at once */
    }
    sp_copy_report(&r, len);
    if (method)
        *method = use_cfr ? "copy_file_range" : "readwrite";
    return TRUE;
}
