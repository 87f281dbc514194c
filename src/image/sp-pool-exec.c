/* The executor's hands: runs planned operations (in-process raw operations,
 * qemu-img with limits and the secret on an inherited fd) and inspects a
 * pool volume before qemu-img is allowed to read it. */
#include "image/sp-pool-private.h"
#include "image/sp-template.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-exec.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-sandbox.h"

/* Ask for no copy-on-write (btrfs). Filesystems without the flag have no
 * COW to disable, so "unsupported" is not an error. */
static gboolean
sp_set_nocow(int fd, const char *name, GError **error)
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

/* Size a raw file, and allocate its first @allocation bytes. */
static gboolean
sp_raw_size(int fd, const char *name, guint64 size, guint64 allocation,
            GError **error)
{
    if (ftruncate(fd, (off_t)size) < 0)
        return sp_error_set_errno(
            error, errno, _("volume '%s': resize to %" PRIu64), name, size);
    if (allocation) {
        int r = fallocate(fd, 0, 0, (off_t)allocation);

        if (r < 0 && errno == EOPNOTSUPP) {
            /* posix_fallocate writes zeros where fallocate cannot. */
            int e = posix_fallocate(fd, 0, (off_t)allocation);

            errno = e;
            r = e ? -1 : 0;
        }
        if (r < 0)
            return sp_error_set_errno(
                error, errno, _("volume '%s': allocate %" PRIu64 " bytes"),
                name, allocation);
    }
    return TRUE;
}

void
sp_run_add_input(SpRun *run, const char *path, int fd)
{
    g_return_if_fail(run->n_in < SP_RUN_MAX_INPUTS);
    run->in_paths[run->n_in] = path;
    run->in_fds[run->n_in] = fd;
    run->n_in++;
}

static int
sp_run_input(const SpRun *run, const char *path)
{
    for (guint i = 0; i < run->n_in; i++)
        if (g_strcmp0(run->in_paths[i], path) == 0)
            return run->in_fds[i];
    return -1;
}

/* The sandbox of one qemu-img operation: the file it writes and the files
 * it reads, each bound by the fd safepool holds, and the secret. A
 * qemu-img the policy names outside /usr is shown too, read-only. */
static SpSandbox *
sp_run_sandbox(const SpOperation *op, const SpRun *run, int secret_fd,
               GError **error)
{
    g_autoptr(SpSandbox) sb = sp_sandbox_new();
    const char *prog = op->argv[0];

    if (!g_str_has_prefix(prog, "/usr/")) {
        g_autofd int pfd = open(prog, O_PATH | O_CLOEXEC);

        if (pfd < 0)
            return sp_error_set_errno(error, errno, "'%s'", prog), NULL;
        if (!sp_sandbox_add_file(sb, prog, pfd, FALSE, error))
            return NULL;
        sp_sandbox_keep_fd(sb, g_steal_fd(&pfd));
    }
    if (op->writes &&
        !sp_sandbox_add_file(sb, op->writes, run->target_fd, TRUE, error))
        return NULL;
    for (char **r = op->reads; r && *r; r++)
        if (!sp_sandbox_add_file(sb, *r, sp_run_input(run, *r), FALSE, error))
            return NULL;
    if (secret_fd >= 0)
        sp_sandbox_set_secret(sb, SP_SECRET_CHILD_FD, secret_fd);
    return g_steal_pointer(&sb);
}

/* qemu-img convert -p writes "    (37.50/100%)\r" as it goes: the last
 * percentage in what came, as bytes of the source. */
static void
sp_run_convert_progress(const char *chunk, gsize len, gpointer data)
{
    const SpRun *run = data;
    g_autofree char *text = g_strndup(chunk, len);
    const char *open = strrchr(text, '(');
    double pct;

    if (open && sscanf(open, "(%lf/100%%)", &pct) == 1 && pct >= 0 &&
        pct <= 100)
        sp_progress_report(run->progress,
                           (guint64)(pct / 100.0 * (double)run->src_size),
                           run->src_size);
}

/* The argv to run: a convert that reports progress gets -p. */
static GPtrArray *
sp_run_argv(const SpOperation *op, const SpRun *run)
{
    GPtrArray *argv = g_ptr_array_new();

    for (guint i = 0; op->argv[i]; i++) {
        g_ptr_array_add(argv, op->argv[i]);
        if (i == 1 && run->progress && g_str_equal(op->argv[i], "convert"))
            g_ptr_array_add(argv, (char *)"-p");
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

static gboolean
sp_run_qemu_img(SpPool *pool, const SpPlan *plan, const SpOperation *op,
                const SpRun *run, GError **error)
{
    g_autoptr(GPtrArray) argv = sp_run_argv(op, run);
    const SpPolicy *policy = pool->policy;
    g_autoptr(SpSandbox) sb = NULL;
    g_autofd int memfd = -1;
    g_autofree char *shape = sp_template_shape(op);
    gboolean known = FALSE;
    SpExecFd fds[1];
    SpExecOptions opts = {
        .timeout_sec = policy->timeout_sec,
        .cpu_limit_sec = policy->cpu_limit_sec,
        .as_limit_bytes = policy->as_limit_bytes,
        .stdin_fd = -1,
        .on_stdout = run->progress ? sp_run_convert_progress : NULL,
        .on_stdout_data = (gpointer)run,
    };

    if (!sp_template_write(shape, run->target_fd, &known, error)) {
        g_prefix_error(error, _("volume '%s': "), plan->volume);
        return FALSE;
    }
    if (known)
        return TRUE;
    if (op->needs_secret) {
        if (!run->secret) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume '%s': encryption needs a secret"),
                        plan->volume);
            return FALSE;
        }
        memfd = sp_secret_to_memfd(run->secret, error);
        if (memfd < 0)
            return FALSE;
    }
    if (policy->sandbox) {
        sb = sp_run_sandbox(op, run, memfd, error);
        if (!sb) {
            g_prefix_error(error, _("volume '%s': "), plan->volume);
            return FALSE;
        }
        opts.sandbox = sb;
    } else if (memfd >= 0) {
        fds[0].child_fd = SP_SECRET_CHILD_FD;
        fds[0].parent_fd = memfd;
        opts.fds = fds;
        opts.n_fds = 1;
    }
    if (!sp_exec_run((const char *const *)argv->pdata, &opts, NULL, error)) {
        g_prefix_error(error, _("volume '%s': "), plan->volume);
        return FALSE;
    }
    sp_template_store(shape, run->target_fd);
    return TRUE;
}

/* A raw clone, in process: allocated first when libvirt's rule says so,
 * then the source's data extents (or a reflink: required with the
 * REFLINK flag, else tried first). */
static gboolean
sp_run_raw_clone(const SpPlan *plan, const SpOperation *op, int target_fd,
                 int src_fd, guint64 src_size, const SpProgress *progress,
                 GError **error)
{
    const char *method = NULL;

    if (src_fd < 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("volume '%s': clone without a source"), plan->volume);
        return FALSE;
    }
    if (!sp_raw_size(target_fd, plan->volume, src_size,
                     op->reflink ? 0 : MIN(op->allocation, src_size), error))
        return FALSE;
    if (!sp_fs_copy_sparse(src_fd, target_fd, src_size,
                           op->reflink ? SP_FS_REFLINK_ONLY : SP_FS_REFLINK_TRY,
                           &method, progress, error)) {
        g_prefix_error(error, _("volume '%s': clone: "), plan->volume);
        return FALSE;
    }
    g_debug("volume '%s': cloned with %s", plan->volume, method);
    return op->size <= src_size || sp_raw_size(target_fd, plan->volume,
                                               op->size, op->allocation, error);
}

gboolean
sp_pool_run_plan(SpPool *pool, const SpPlan *plan, const SpRun *run,
                 GError **error)
{
    int target_fd = run->target_fd;

    for (guint i = 0; i < plan->ops->len; i++) {
        const SpOperation *op = g_ptr_array_index(plan->ops, i);
        gboolean ok = TRUE;

        if (op->nocow && !sp_set_nocow(target_fd, plan->volume, error))
            return FALSE;
        switch (op->kind) {
        case SP_OP_RAW_CREATE:
        case SP_OP_RAW_RESIZE:
            ok = sp_raw_size(target_fd, plan->volume, op->size, op->allocation,
                             error);
            break;
        case SP_OP_RAW_CLONE:
            ok = sp_run_raw_clone(plan, op, target_fd, run->src_fd,
                                  run->src_size, run->progress, error);
            break;
        case SP_OP_QEMU_IMG:
            ok = sp_run_qemu_img(pool, plan, op, run, error);
            break;
        }
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* The violations of @r that make @vol's image unusable: its own recorded
 * backing file (named exactly, path and format) is expected; whether it
 * was named is told in @uses_backing, a format mismatch in @mismatch. */
static GPtrArray *
sp_image_problems(const SpInspectResult *r, const SpVolume *vol,
                  gboolean *uses_backing, gboolean *mismatch)
{
    GPtrArray *bad = g_ptr_array_new();
    gboolean own_backing =
        vol->backing_path && vol->backing_format != SP_FORMAT_UNKNOWN &&
        g_strcmp0(r->backing_name, vol->backing_path) == 0 &&
        g_strcmp0(r->backing_format,
                  sp_format_to_string(vol->backing_format)) == 0;

    *uses_backing = FALSE;
    *mismatch = FALSE;
    for (guint i = 0; i < r->violations->len; i++) {
        const char *v = g_ptr_array_index(r->violations, i);

        if ((g_str_equal(v, "qcow2-backing-file") ||
             g_str_equal(v, "qcow2-backing-format")) &&
            own_backing) {
            *uses_backing = TRUE;
            continue;
        }
        if (g_str_equal(v, "format-mismatch"))
            *mismatch = TRUE;
        g_ptr_array_add(bad, (gpointer)v);
    }
    return bad;
}

#ifdef SP_TEST_HOOKS
/* Test builds only (-Dtest_hooks=true; never a policy key): with
 * SAFEPOOL_TEST_SKIP_INSPECTOR set, every image passes unread but for its
 * virtual size, so the tests can hand qemu-img what the inspector would
 * refuse and show that its sandbox alone keeps the host out of reach. */
static gboolean
sp_pool_check_skipped(int fd, SpFormat img, SpInspectResult **result,
                      int *backing_fd, GError **error)
{
    g_autoptr(SpInspectResult) r = g_new0(SpInspectResult, 1);
    struct stat st;

    r->format = img;
    r->formats = SP_FORMAT_BIT(img);
    r->safe = TRUE;
    r->violations = g_ptr_array_new_with_free_func(g_free);
    if (!sp_inspect_virtual_size(fd, img, &r->virtual_size, NULL)) {
        if (fstat(fd, &st) < 0)
            return sp_error_set_errno(error, errno, "fstat");
        r->virtual_size = st.st_size;
    }
    if (result)
        *result = g_steal_pointer(&r);
    if (backing_fd)
        *backing_fd = -1;
    return TRUE;
}
#endif

gboolean
sp_pool_check_image(SpPool *pool, int fd, const SpVolume *vol, const char *what,
                    SpInspectResult **result, int *backing_fd, GError **error)
{
    SpFormat img = sp_volume_image_format(vol);
    g_autoptr(SpInspectResult) r = NULL;
    g_autoptr(GPtrArray) bad = NULL;
    g_autofree char *list = NULL;
    gboolean uses_backing, mismatch;

    if (img == SP_FORMAT_UNKNOWN) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: no recorded format (not created by safepool)"),
                    what);
        return FALSE;
    }
#ifdef SP_TEST_HOOKS
    if (g_getenv("SAFEPOOL_TEST_SKIP_INSPECTOR"))
        return sp_pool_check_skipped(fd, img, result, backing_fd, error);
#endif
    r = sp_inspect_fd(fd, img, pool->policy, error);
    if (!r)
        return FALSE;
    bad = sp_image_problems(r, vol, &uses_backing, &mismatch);
    if (bad->len == 0) {
        g_autofd int bfd = -1;

        /* qemu-img will read the backing file too: it passes the same gate
         * as when the volume was created. */
        if (uses_backing &&
            (bfd = sp_pool_open_backing(pool, vol, NULL, error)) < 0)
            return FALSE;
        if (result)
            *result = g_steal_pointer(&r);
        if (backing_fd)
            *backing_fd = g_steal_fd(&bfd);
        return TRUE;
    }
    g_ptr_array_add(bad, NULL);
    list = g_strjoinv(", ", (char **)bad->pdata);
    g_set_error(error, SP_ERROR,
                mismatch ? SP_ERROR_FORMAT_MISMATCH : SP_ERROR_UNSAFE_IMAGE,
                _("%s: unsafe image: %s"), what, list);
    return FALSE;
}
