/* The executor's hands: runs planned operations (in-process raw operations,
 * qemu-img with limits and the secret on an inherited fd) and inspects a
 * pool volume before qemu-img is allowed to read it. */
#include "image/sp-pool-private.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "image/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-exec.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

/* Ask for no copy-on-write (btrfs). Filesystems without the flag have no
 * COW to disable, so "unsupported" is not an error. */
static gboolean
set_nocow(int fd, const char *name, GError **error)
{
    int attr = 0;

    if (ioctl(fd, FS_IOC_GETFLAGS, &attr) < 0) {
        if (errno == ENOTTY || errno == EOPNOTSUPP || errno == EINVAL ||
            errno == ENOSYS)
            return TRUE;
        return sp_error_set_errno(error, errno, _("volume '%s': nocow"), name);
    }
    attr |= FS_NOCOW_FL;
    if (ioctl(fd, FS_IOC_SETFLAGS, &attr) < 0 && errno != ENOTTY &&
        errno != EOPNOTSUPP && errno != EINVAL)
        return sp_error_set_errno(error, errno, _("volume '%s': nocow"), name);
    return TRUE;
}

static gboolean
raw_size(int fd, const char *name, guint64 size, guint64 allocation,
         GError **error)
{
    if (ftruncate(fd, (off_t)size) < 0)
        return sp_error_set_errno(error, errno, _("volume '%s': resize to %" PRIu64),
                                  name, size);
    if (allocation) {
        int r = fallocate(fd, 0, 0, (off_t)allocation);
        if (r < 0 && errno == EOPNOTSUPP)
            r = posix_fallocate(fd, 0, (off_t)allocation) == 0 ? 0 : -1;
        if (r < 0)
            return sp_error_set_errno(error, errno,
                                      _("volume '%s': allocate %" PRIu64 " bytes"),
                                      name, allocation);
    }
    return TRUE;
}

static gboolean
run_qemu_img(SpPool *pool, const SpPlan *plan, const SpOperation *op,
             const SpSecret *secret, GError **error)
{
    const SpPolicy *policy = pool->policy;
    g_autofd int memfd = -1;
    SpExecFd fds[1];
    SpExecOptions opts = {
        .timeout_sec = policy->timeout_sec,
        .cpu_limit_sec = policy->cpu_limit_sec,
        .as_limit_bytes = policy->as_limit_bytes,
        .stdin_fd = -1,
    };

    if (op->needs_secret) {
        if (!secret) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume '%s': encryption needs a secret"), plan->volume);
            return FALSE;
        }
        memfd = sp_secret_to_memfd(secret, error);
        if (memfd < 0)
            return FALSE;
        fds[0].child_fd = SP_SECRET_CHILD_FD;
        fds[0].parent_fd = memfd;
        opts.fds = fds;
        opts.n_fds = 1;
    }
    if (!sp_exec_run((const char *const *)op->argv, &opts, NULL, error)) {
        g_prefix_error(error, _("volume '%s': "), plan->volume);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_pool_run_plan(SpPool *pool, const SpPlan *plan, int target_fd, int src_fd,
                 guint64 src_size, const SpSecret *secret, GError **error)
{
    for (guint i = 0; i < plan->ops->len; i++) {
        const SpOperation *op = g_ptr_array_index(plan->ops, i);
        const char *method = NULL;

        if (op->nocow && !set_nocow(target_fd, plan->volume, error))
            return FALSE;
        switch (op->kind) {
        case SP_OP_RAW_CREATE:
            if (!raw_size(target_fd, plan->volume, op->size, op->allocation, error))
                return FALSE;
            break;
        case SP_OP_RAW_CLONE:
            if (src_fd < 0) {
                g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                            _("volume '%s': clone without a source"), plan->volume);
                return FALSE;
            }
            if (!raw_size(target_fd, plan->volume, src_size, 0, error))
                return FALSE;
            if (!sp_fs_copy_sparse(src_fd, target_fd, src_size, TRUE, &method, error)) {
                g_prefix_error(error, _("volume '%s': clone: "), plan->volume);
                return FALSE;
            }
            g_debug("volume '%s': cloned with %s", plan->volume, method);
            if (op->size > src_size &&
                !raw_size(target_fd, plan->volume, op->size, 0, error))
                return FALSE;
            break;
        case SP_OP_RAW_RESIZE:
            if (!raw_size(target_fd, plan->volume, op->size, op->allocation, error))
                return FALSE;
            break;
        case SP_OP_QEMU_IMG:
            if (!run_qemu_img(pool, plan, op, secret, error))
                return FALSE;
            break;
        }
    }
    return TRUE;
}

/* How much of a qcow2 header cluster is searched for the backing format
 * extension (qemu writes it right after the header). */
#define QCOW2_EXT_AREA 65536
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acaU

/* The backing format named by the header extensions of qcow2 @fd, or NULL
 * when there is none (qemu-img would then probe the backing file). */
static char *
qcow2_backing_format(int fd, guint32 version)
{
    g_autofree guint8 *area = NULL;
    guint32 header_len = 72, cluster_bits;
    guint8 h[104];
    gssize n;
    gsize off;

    if (sp_fs_pread_full(fd, h, sizeof(h), 0, NULL) != (gssize)sizeof(h))
        return NULL;
    memcpy(&cluster_bits, h + 20, 4);
    cluster_bits = GUINT32_FROM_BE(cluster_bits);
    if (version >= 3) {
        memcpy(&header_len, h + 100, 4);
        header_len = GUINT32_FROM_BE(header_len);
    }
    if (cluster_bits < 9 || cluster_bits > 21 || header_len < 72)
        return NULL;
    area = g_malloc(QCOW2_EXT_AREA);
    n = sp_fs_pread_full(fd, area, MIN((gsize)QCOW2_EXT_AREA, (gsize)1 << cluster_bits),
                         0, NULL);
    if (n < 0)
        return NULL;
    for (off = header_len; off + 8 <= (gsize)n;) {
        guint32 type, len;

        memcpy(&type, area + off, 4);
        memcpy(&len, area + off + 4, 4);
        type = GUINT32_FROM_BE(type);
        len = GUINT32_FROM_BE(len);
        off += 8;
        if (type == 0 || len > (gsize)n - off)
            return NULL;
        if (type == QCOW2_EXT_BACKING_FORMAT)
            return g_strndup((const char *)area + off, len);
        off += ((gsize)len + 7) & ~(gsize)7;
    }
    return NULL;
}

/* Whether the qcow2 header of @fd names exactly @expected as backing file,
 * with exactly @format as its backing format. */
static gboolean
qcow2_backing_is(int fd, const char *expected, SpFormat format)
{
    guint8 h[20];
    guint64 off;
    guint32 len, version;
    g_autofree char *name = NULL;
    g_autofree char *fmt = NULL;

    if (!expected || format == SP_FORMAT_UNKNOWN ||
        sp_fs_pread_full(fd, h, sizeof(h), 0, NULL) != sizeof(h) ||
        memcmp(h, "QFI\xfb", 4) != 0)
        return FALSE;
    memcpy(&version, h + 4, 4);
    memcpy(&off, h + 8, 8);
    memcpy(&len, h + 16, 4);
    version = GUINT32_FROM_BE(version);
    off = GUINT64_FROM_BE(off);
    len = GUINT32_FROM_BE(len);
    if (len == 0 || len > 1023 || len != strlen(expected))
        return FALSE;
    name = g_malloc0(len + 1);
    if (sp_fs_pread_full(fd, name, len, off, NULL) != (gssize)len ||
        memcmp(name, expected, len) != 0)
        return FALSE;
    fmt = qcow2_backing_format(fd, version);
    return fmt && g_str_equal(fmt, sp_format_to_string(format));
}

gboolean
sp_pool_check_volume_image(SpPool *pool, int fd, const SpVolume *vol,
                           GError **error)
{
    SpFormat img = sp_volume_image_format(vol);
    g_autoptr(SpInspectResult) r = NULL;
    g_autoptr(GPtrArray) bad = g_ptr_array_new();
    gboolean mismatch = FALSE;
    gboolean backing_ok, backing_used = FALSE;

    if (img == SP_FORMAT_UNKNOWN) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': no recorded format (not created by safepool)"),
                    vol->name);
        return FALSE;
    }
    r = sp_inspect_fd(fd, img, pool->policy, error);
    if (!r)
        return FALSE;
    backing_ok = qcow2_backing_is(fd, vol->backing_path, vol->backing_format);
    for (guint i = 0; i < r->violations->len; i++) {
        const char *v = g_ptr_array_index(r->violations, i);
        /* The volume's own, recorded backing file is expected. */
        if ((g_str_equal(v, "qcow2-backing-file") ||
             g_str_equal(v, "qcow2-backing-format")) && backing_ok) {
            backing_used = TRUE;
            continue;
        }
        if (g_str_equal(v, "format-mismatch"))
            mismatch = TRUE;
        g_ptr_array_add(bad, (gpointer)v);
    }
    if (bad->len == 0) {
        g_autofd int bfd = -1;

        if (!backing_used)
            return TRUE;
        /* qemu-img will read the backing file too: it passes the same gate
         * as when the volume was created (the recorded path is only as
         * trustworthy as whoever can write the volume's xattrs). */
        bfd = sp_pool_open_backing(pool, vol, NULL, error);
        return bfd >= 0;
    }
    g_ptr_array_add(bad, NULL);
    g_autofree char *list = g_strjoinv(", ", (char **)bad->pdata);
    g_set_error(error, SP_ERROR,
                mismatch ? SP_ERROR_FORMAT_MISMATCH : SP_ERROR_UNSAFE_IMAGE,
                _("volume '%s': unsafe image: %s"), vol->name, list);
    return FALSE;
}
