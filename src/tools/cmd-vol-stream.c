/* safepool vol-wipe / vol-upload / vol-download, for dir and rbd pools:
 * what virsh's commands of the same names do, without a daemon. Holes of
 * a sparse input are skipped and a download writes holes where the
 * volume has none of its own data. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image/sp-upload.h"
#include "tools/cmd-vol.h"
#include "util/sp-fs.h"

#define SP_COPY_CHUNK (4 * 1024 * 1024)

int
sp_cmd_vol_wipe(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autoptr(GError) error = NULL;
    int rc;

    if (!sp_cmd_vol_parse(cli, "vol-wipe", "NAME",
                          _("Zero a volume in place (refused while an RBD "
                            "image is open anywhere)."),
                          NULL, 1, &po, &argc, &argv, &rc) ||
        !sp_cmd_open_target(cli, "vol-wipe", &po, &t, &rc))
        return rc;
#ifdef SP_HAVE_RBD
    if (t.rbd && !sp_rbd_wipe(t.rbd, argv[1], &error))
        return sp_cli_fail(cli, error);
#endif
    if (t.dir && !sp_pool_wipe(t.dir, argv[1], &error))
        return sp_cli_fail(cli, error);
    return 0;
}

/* Where the next data starts at or after @off (regular files: SEEK_DATA;
 * anything else is all data). -1 at the end. */
static off_t
next_data(int fd, off_t off, gboolean seekable)
{
    off_t d;

    if (!seekable)
        return off;
    d = lseek(fd, off, SEEK_DATA);
    return d < 0 ? -1 : d;
}

typedef gboolean (*SpPutData)(gpointer dst, const void *buf, gsize len,
                              GError **error);
typedef gboolean (*SpPutHole)(gpointer dst, guint64 len, GError **error);

/* Feed the file @fd (sparse: holes as holes) to @put / @hole. */
static gboolean
feed(int fd, const char *what, SpPutData put, SpPutHole hole, gpointer dst,
     GError **error)
{
    g_autofree guint8 *buf = g_malloc(SP_COPY_CHUNK);
    struct stat st;
    gboolean seekable;
    off_t off = 0;

    if (fstat(fd, &st) < 0)
        return sp_error_set_errno(error, errno, "%s", what);
    seekable = S_ISREG(st.st_mode);
    for (;;) {
        off_t d = next_data(fd, off, seekable);
        off_t h;

        if (d < 0) { /* only a hole up to the end */
            if (seekable && st.st_size > off &&
                !hole(dst, (guint64)(st.st_size - off), error))
                return FALSE;
            return TRUE;
        }
        if (d > off && !hole(dst, (guint64)(d - off), error))
            return FALSE;
        off = d;
        h = seekable ? lseek(fd, off, SEEK_HOLE) : G_MAXINT64;
        while (off < h) {
            ssize_t n =
                pread(fd, buf, (size_t)MIN((off_t)SP_COPY_CHUNK, h - off), off);

            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == ESPIPE)
                n = read(fd, buf, SP_COPY_CHUNK);
            if (n < 0)
                return sp_error_set_errno(error, errno, "%s", what);
            if (n == 0)
                return TRUE;
            if (!put(dst, buf, (gsize)n, error))
                return FALSE;
            off += n;
        }
    }
}

static gboolean
put_fd(gpointer dst, const void *buf, gsize len, GError **error)
{
    return sp_fs_write_all(GPOINTER_TO_INT(dst), buf, len, error);
}

static gboolean
hole_fd(gpointer dst, guint64 len, GError **error)
{
    int fd = GPOINTER_TO_INT(dst);
    off_t end = lseek(fd, (off_t)len, SEEK_CUR);

    if (end < 0 || ftruncate(fd, end) < 0)
        return sp_error_set_errno(error, errno, _("hole"));
    return TRUE;
}

#ifdef SP_HAVE_RBD
static gboolean
put_rbd(gpointer dst, const void *buf, gsize len, GError **error)
{
    return sp_rbd_upload_write(dst, buf, len, error);
}

static gboolean
hole_rbd(gpointer dst, guint64 len, GError **error)
{
    return sp_rbd_upload_hole(dst, len, error);
}
#endif

/* FILE of vol-upload; '-': stdin (a copy no child inherits). */
static int
open_in(const char *path, GError **error)
{
    int fd = g_str_equal(path, "-")
                 ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)
                 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        sp_error_set_errno(error, errno, _("upload source '%s'"), path);
    return fd;
}

int
sp_cmd_vol_upload(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autofd int in = -1;
    int rc;

    if (!sp_cmd_vol_parse(cli, "vol-upload", "NAME FILE",
                          _("Replace a volume's content with FILE ('-': "
                            "stdin) once it has passed the inspector as the "
                            "volume's recorded format."),
                          NULL, 2, &po, &argc, &argv, &rc))
        return rc;
    if ((in = open_in(argv[2], &error)) < 0)
        return sp_cli_fail(cli, error);
    if (!sp_cmd_open_target(cli, "vol-upload", &po, &t, &rc))
        return rc;
#ifdef SP_HAVE_RBD
    if (t.rbd) {
        g_autoptr(SpRbdUpload) u = sp_rbd_upload_begin(t.rbd, argv[1], &error);

        if (!u || !feed(in, argv[2], put_rbd, hole_rbd, u, &error) ||
            !sp_rbd_upload_commit(u, &error))
            return sp_cli_fail(cli, error);
        return 0;
    }
#endif
    {
        g_autoptr(SpUpload) u = sp_upload_begin(t.dir, argv[1], &error);

        if (!u ||
            !feed(in, argv[2], put_fd, hole_fd,
                  GINT_TO_POINTER(sp_upload_fd(u)), &error) ||
            !sp_upload_commit(u, &error))
            return sp_cli_fail(cli, error);
    }
    return 0;
}

/* The download's output: a new regular file gets holes, a pipe zeros. */
static gboolean
out_hole(int fd, gboolean seekable, guint64 len, GError **error)
{
    static const guint8 zeros[64 * 1024];

    if (seekable)
        return hole_fd(GINT_TO_POINTER(fd), len, error);
    while (len > 0) {
        gsize n = (gsize)MIN(len, sizeof(zeros));

        if (!sp_fs_write_all(fd, zeros, n, error))
            return FALSE;
        len -= n;
    }
    return TRUE;
}

static gboolean
hole_zeros(gpointer dst, guint64 len, GError **error)
{
    return out_hole(GPOINTER_TO_INT(dst), FALSE, len, error);
}

static int
open_out(const char *path, gboolean *seekable, GError **error)
{
    struct stat st;
    int fd;

    fd = g_str_equal(path, "-") ? fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
                                : open(path,
                                       O_WRONLY | O_CREAT | O_TRUNC |
                                           O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                                       0600);
    if (fd < 0 || fstat(fd, &st) < 0) {
        sp_error_set_errno(error, errno, _("download target '%s'"), path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *seekable = S_ISREG(st.st_mode) && st.st_size == 0;
    return fd;
}

int
sp_cmd_vol_download(SpCli *cli, int argc, char **argv)
{
    g_auto(SpCmdPoolOpts) po = SP_CMD_POOL_OPTS_INIT;
    g_auto(SpCmdTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autofd int out = -1;
    gboolean seekable = FALSE;
    int rc;

    if (!sp_cmd_vol_parse(cli, "vol-download", "NAME FILE",
                          _("Write a volume's content to FILE ('-': stdout), "
                            "sparse where the volume is."),
                          NULL, 2, &po, &argc, &argv, &rc) ||
        !sp_cmd_open_target(cli, "vol-download", &po, &t, &rc))
        return rc;
    if ((out = open_out(argv[2], &seekable, &error)) < 0)
        return sp_cli_fail(cli, error);
#ifdef SP_HAVE_RBD
    if (t.rbd) {
        g_autoptr(SpRbdReader) r =
            sp_rbd_reader_open(t.rbd, argv[1], 0, 0, &error);
        g_autofree guint8 *buf = g_malloc(SP_COPY_CHUNK);
        gboolean in_data = FALSE;
        guint64 len = 0;

        while (r && sp_rbd_reader_in_data(r, &in_data, &len, &error) && len) {
            if (!in_data) {
                if (!out_hole(out, seekable, len, &error) ||
                    !sp_rbd_reader_skip(r, len, &error))
                    break;
                continue;
            }
            while (len > 0) {
                gssize n = sp_rbd_reader_read(
                    r, buf, (gsize)MIN(len, SP_COPY_CHUNK), &error);

                if (n <= 0 || !sp_fs_write_all(out, buf, (gsize)n, &error)) {
                    if (n == 0)
                        g_set_error(&error, SP_ERROR, SP_ERROR_FAILED,
                                    _("volume '%s': short read"), argv[1]);
                    break;
                }
                len -= (guint64)n;
            }
            if (error)
                break;
        }
        if (!r || error)
            return sp_cli_fail(cli, error);
        return 0;
    }
#endif
    {
        g_autofd int in = -1;

        if (!sp_volume_check_name(argv[1], &error) ||
            (in = sp_fs_openat(sp_pool_fd(t.dir), argv[1], O_RDONLY, 0,
                               &error)) < 0 ||
            !feed(in, argv[1], put_fd, seekable ? hole_fd : hole_zeros,
                  GINT_TO_POINTER(out), &error))
            return sp_cli_fail(cli, error);
    }
    return 0;
}
