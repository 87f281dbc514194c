/* Creating and cloning volumes: checks, locks, the clone source and the
 * backing store opened fd by fd and inspected, the build under a hidden
 * temporary that already carries the volume's identity, the atomic
 * publish. */
#include "image/sp-pool-private.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "inspect/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

/* Everything a create needs besides the temporary, released together. */
typedef struct {
    SpLock *name_lock;
    SpLock *src_lock;
    SpLock *backing_lock;
    int src_fd;
    int backing_fd;
    int src_backing_fd; /* a source that is an overlay: its backing store */
    SpPool *src_pool;   /* borrowed: the source's pool */
    SpVolume *source;
    char *source_path;
    char *backing_path; /* normalised, as the plan names it */
    guint64 src_size;
} SpCreateCtx;

#define SP_CREATE_CTX_INIT                                                     \
    {                                                                          \
        .src_fd = -1, .backing_fd = -1, .src_backing_fd = -1                   \
    }

static void
sp_create_ctx_clear(SpCreateCtx *c)
{
    g_clear_pointer(&c->backing_lock, sp_lock_release);
    g_clear_pointer(&c->src_lock, sp_lock_release);
    g_clear_pointer(&c->name_lock, sp_lock_release);
    g_clear_fd(&c->src_fd, NULL);
    g_clear_fd(&c->backing_fd, NULL);
    g_clear_fd(&c->src_backing_fd, NULL);
    g_clear_pointer(&c->source, sp_volume_free);
    g_clear_pointer(&c->source_path, g_free);
    g_clear_pointer(&c->backing_path, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpCreateCtx, sp_create_ctx_clear)

/* Open the clone source (in its own pool), shared-locked, and read its
 * recorded definition. */
static gboolean
sp_create_open_source(SpPool *pool, const SpCreateArgs *args, gboolean lock,
                      SpCreateCtx *c, GError **error)
{
    SpPool *src_pool = args->from_pool ? args->from_pool : pool;
    g_autofree char *what = NULL;
    struct stat st;

    if (!sp_volume_check_name(args->from, error))
        return FALSE;
    what = g_strdup_printf(_("clone source '%s'"), args->from);
    c->src_pool = src_pool;
    if (lock) {
        c->src_lock = sp_lock_acquire(src_pool->fd, args->from, FALSE, error);
        if (!c->src_lock)
            return FALSE;
    }
    c->src_fd = sp_pool_open_volume(src_pool, args->from, O_RDONLY, &st, error);
    if (c->src_fd < 0 || !sp_pool_check_single_link(&st, what, error))
        return FALSE;
    c->source =
        sp_pool_read_volume(src_pool, args->from, c->src_fd, &st, error);
    if (!c->source)
        return FALSE;
    if (c->source->format == SP_FORMAT_UNKNOWN) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': no recorded format (not created by "
                      "safepool; see 'safepool vol-adopt'), cannot clone it"),
                    args->from);
        return FALSE;
    }
    c->src_size = (guint64)st.st_size;
    c->source_path = g_build_filename(src_pool->path, args->from, NULL);
    return TRUE;
}

/* A backing store inside the pool is one of its volumes (a single
 * component with a volume's name: never a hidden file such as the lock
 * file, never a subdirectory's file); it must carry a recorded format,
 * the one the new volume names. */
static int
sp_open_pool_backing(SpPool *pool, const SpVolume *vol, const char *rel,
                     const char *what, SpLock **lock, GError **error)
{
    g_autoptr(SpIdentity) id = NULL;
    g_autofd int fd = -1;
    struct stat st;
    SpFormat recorded;

    if (strchr(rel, '/') || !sp_volume_check_name(rel, NULL)) {
        sp_set_error_element(error, SP_ERROR_INVALID, "backingStore/path",
                             _("%s: not a volume of the pool (hidden files "
                               "and files in subdirectories are not backing "
                               "stores)"),
                             what);
        return -1;
    }
    if (lock && !(*lock = sp_lock_acquire(pool->fd, rel, FALSE, error)))
        return -1;
    fd = sp_pool_open_volume(pool, rel, O_RDONLY, &st, error);
    if (fd < 0) {
        g_prefix_error(error, "%s: ", what);
        return -1;
    }
    if (!(id = sp_identity_read(fd, SP_IDENTITY_SUMMARY, error)))
        return -1;
    recorded = sp_format_from_string(sp_identity_get(id, SP_ID_FORMAT));
    if (g_strcmp0(sp_identity_get(id, SP_ID_ENCRYPTION), "luks") == 0 &&
        recorded == SP_FORMAT_RAW)
        recorded = SP_FORMAT_LUKS;
    if (!sp_identity_get(id, SP_ID_FORMAT)) {
        sp_set_error_element(error, SP_ERROR_INVALID, "backingStore/path",
                             _("%s: has no recorded format (not created by "
                               "safepool; 'safepool vol-adopt' records one "
                               "after inspecting it)"),
                             what);
        return -1;
    }
    if (recorded != vol->backing_format) {
        sp_set_error_element(
            error, SP_ERROR_FORMAT_MISMATCH, "backingStore/format",
            _("%s: its recorded format is %s, and <backingStore><format> "
              "says %s (libvirt takes a missing <format> for raw): give "
              "<format type='%s'/>"),
            what, sp_format_to_string(recorded),
            sp_format_to_string(vol->backing_format),
            sp_format_to_string(recorded));
        return -1;
    }
    return g_steal_fd(&fd);
}

/* A backing store below a backing root of the policy. */
static int
sp_open_root_backing(SpPool *pool, const char *path, const char *what,
                     GError **error)
{
    for (char **r = pool->policy->backing_roots; r && *r; r++) {
        g_autofree char *root = sp_fs_normalize_abs(*r, NULL);
        g_autofree char *rel = root ? sp_fs_relative_to(root, path) : NULL;
        g_autofd int root_fd = -1;
        int fd;

        if (!rel)
            continue;
        root_fd = sp_fs_open_dir(root, error);
        if (root_fd < 0) {
            g_prefix_error(error, "%s: ", what);
            return -1;
        }
        fd = sp_fs_openat(root_fd, rel, O_RDONLY | O_NONBLOCK, 0, error);
        if (fd < 0)
            g_prefix_error(error, "%s: ", what);
        return fd;
    }
    sp_set_error_element(error, SP_ERROR_INVALID, "backingStore/path",
                         _("%s: outside the pool and the backing roots"), what);
    return -1;
}

int
sp_pool_open_backing(SpPool *pool, const SpVolume *vol, SpLock **lock,
                     GError **error)
{
    g_autofree char *path = sp_fs_normalize_abs(vol->backing_path, error);
    g_autofree char *rel = NULL;
    g_autofree char *what = NULL;
    g_autofd int fd = -1;
    struct stat st;

    if (!path)
        return -1;
    what =
        g_strdup_printf(_("volume '%s': backing store '%s'"), vol->name, path);
    rel = sp_fs_relative_to(pool->path, path);
    fd = rel ? sp_open_pool_backing(pool, vol, rel, what, lock, error)
             : sp_open_root_backing(pool, path, what, error);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0) {
        sp_error_set_errno(error, errno, "%s", what);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: not a regular file"), what);
        return -1;
    }
    if (!sp_pool_check_single_link(&st, what, error) ||
        !sp_inspect_check(fd, vol->backing_format, pool->policy, what, NULL,
                          error))
        return -1;
    return g_steal_fd(&fd);
}

/* qemu-img reads a clone source only after the inspector passed it as
 * its recorded format (invariant 5). A raw-to-raw clone is copied in
 * process, byte for byte, and its guest data is never probed: it is not
 * inspected, so a guest's own bytes cannot stop its disk being cloned. */
static gboolean
sp_create_check_source(SpPool *pool, const SpVolume *vol, SpCreateCtx *c,
                       GError **error)
{
    g_autofree char *what = NULL;

    if (!c->source || (sp_volume_image_format(c->source) == SP_FORMAT_RAW &&
                       sp_volume_image_format(vol) == SP_FORMAT_RAW))
        return TRUE;
    what = g_strdup_printf(_("clone source '%s'"), c->source->name);
    return sp_pool_check_image(c->src_pool, c->src_fd, c->source, what, NULL,
                               &c->src_backing_fd, error);
}

/* What the new volume will hold: a clone is never smaller than its
 * source (as libvirt), and no path may publish more than max_capacity. */
static gboolean
sp_create_check_size(SpPool *pool, const SpVolume *vol, const SpCreateCtx *c,
                     GError **error)
{
    guint64 capacity = vol->capacity;

    if (c->source && c->source->capacity > capacity)
        capacity = c->source->capacity;
    if (capacity <= pool->policy->max_capacity)
        return TRUE;
    sp_set_error_element(error, SP_ERROR_INVALID, "capacity",
                         _("volume '%s': %" PRIu64 " bytes (the size of clone "
                           "source '%s') is more than the policy's "
                           "max_capacity of %" PRIu64 " bytes"),
                         vol->name, capacity, c->source->name,
                         pool->policy->max_capacity);
    return FALSE;
}

/* The flags libvirt's storage API can ask for, checked against what
 * this volume can honour; each refusal names the flag. */
static gboolean
sp_create_check_flags(const SpVolume *vol, const SpCreateArgs *args,
                      const SpCreateCtx *c, GError **error)
{
    SpFormat img = sp_volume_image_format(vol);

    if (args->prealloc_metadata && img != SP_FORMAT_QCOW2) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': metadata preallocation "
                      "(VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA) is only "
                      "supported for qcow2 volumes, not %s"),
                    vol->name, sp_format_to_string(img));
        return FALSE;
    }
    if (args->prealloc_metadata && vol->backing_path) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': metadata preallocation "
                      "(VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA) conflicts "
                      "with a backing store"),
                    vol->name);
        return FALSE;
    }
    if (args->reflink &&
        (!c->source || sp_volume_image_format(c->source) != SP_FORMAT_RAW ||
         img != SP_FORMAT_RAW)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': a reflink copy "
                      "(VIR_STORAGE_VOL_CREATE_REFLINK) is only possible "
                      "when cloning a raw volume into a raw volume"),
                    vol->name);
        return FALSE;
    }
    return TRUE;
}

/* Checks shared by create and plan; fills @c (locks only when @lock). */
static gboolean
sp_create_prepare(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
                  gboolean lock, SpCreateCtx *c, GError **error)
{
    g_autoptr(GError) local = NULL;
    struct stat st;

    if (!sp_volume_check_policy(vol, pool->policy, pool->path, NULL, error))
        return FALSE;
    if (lock) {
        c->name_lock = sp_lock_acquire(pool->fd, vol->name, TRUE, error);
        if (!c->name_lock)
            return FALSE;
    }
    if (sp_fs_lstat(pool->fd, vol->name, &st, &local)) {
        g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                    _("volume '%s': already exists in pool '%s'"), vol->name,
                    pool->path);
        return FALSE;
    }
    if (!g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (args->from && !sp_create_open_source(pool, args, lock, c, error))
        return FALSE;
    if (!sp_create_check_flags(vol, args, c, error) ||
        !sp_create_check_size(pool, vol, c, error))
        return FALSE;
    if (vol->encryption.enabled && lock && !args->secret) {
        sp_set_error_element(error, SP_ERROR_INVALID, "target/encryption",
                             _("volume '%s': element 'target/encryption': a "
                               "secret is needed"),
                             vol->name);
        return FALSE;
    }
    return TRUE;
}

static void
sp_plan_args(SpPool *pool, const SpCreateArgs *args, const SpCreateCtx *c,
             const char *target, SpPlanCreateArgs *pa)
{
    pa->pool_path = pool->path;
    pa->target_path = target;
    pa->source = c->source;
    pa->source_path = c->source_path;
    pa->prealloc_metadata = args->prealloc_metadata;
    pa->reflink = args->reflink;
}

SpPlan *
sp_pool_plan_create(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
                    GError **error)
{
    g_auto(SpCreateCtx) c = SP_CREATE_CTX_INIT;
    static const SpCreateArgs none = {0};
    SpPlanCreateArgs pa = {0};

    args = args ? args : &none;
    if (!sp_create_prepare(pool, vol, args, FALSE, &c, error))
        return NULL;
    sp_plan_args(pool, args, &c, NULL, &pa);
    return sp_plan_create(pool->policy, vol, &pa, error);
}

/* How often a LUKS create is tried when qemu's PBKDF calibration fails.
 * qemu 7.2 times 2^15 iterations on the thread CPU clock and gives up when
 * it reads 0 ms, which SHA-NI makes common (up to ~45% of creates with
 * sha256 on this project's machine). A failed attempt costs milliseconds;
 * 20 attempts fail together about once in 10^7. */
#define SP_PBKDF_ATTEMPTS 20

/* Build @vol once in a fresh temporary @t that carries its identity from
 * the start (what cannot be recorded is refused before any work). */
static gboolean
sp_create_attempt(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
                  const SpCreateCtx *c, const SpIdentity *id, SpFsTmp *t,
                  GError **error)
{
    g_autofree char *target = NULL;
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), vol->name);
    g_autoptr(SpPlan) plan = NULL;
    SpPlanCreateArgs pa = {0};
    SpRun run = SP_RUN_INIT;

    if (!sp_fs_tmp_file(t, pool->fd, c->source ? "clone" : "create", error) ||
        !sp_identity_apply(id, t->fd, what, error))
        return FALSE;
    target = g_build_filename(pool->path, t->name, NULL);
    sp_plan_args(pool, args, c, target, &pa);
    plan = sp_plan_create(pool->policy, vol, &pa, error);
    run.target_fd = t->fd;
    run.src_fd = c->src_fd;
    run.src_size = c->src_size;
    run.secret = args->secret;
    run.progress = args->progress;
    if (c->backing_path)
        sp_run_add_input(&run, c->backing_path, c->backing_fd);
    if (c->source) {
        sp_run_add_input(&run, c->source_path, c->src_fd);
        if (c->source->backing_path)
            sp_run_add_input(&run, c->source->backing_path, c->src_backing_fd);
    }
    /* qemu-img writes the temporary by path: it must still be the inode
     * we hold (qemu deletes its file when a create fails). */
    return plan && sp_pool_run_plan(pool, plan, &run, error) &&
           sp_fs_tmp_still_ours(t, what, "qemu-img ran", error);
}

static gboolean
sp_create_build(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
                const SpCreateCtx *c, const SpIdentity *id, SpFsTmp *t,
                GError **error)
{
    for (guint attempt = 1;; attempt++) {
        g_autoptr(GError) local = NULL;

        if (sp_create_attempt(pool, vol, args, c, id, t, &local))
            return TRUE;
        /* qemu's PBKDF calibration failure (see SP_PBKDF_ATTEMPTS), and
         * only it, is retried, from a new temporary. */
        if (vol->encryption.enabled && attempt < SP_PBKDF_ATTEMPTS &&
            strstr(local->message, "Unable to get accurate CPU usage")) {
            g_warning(_("volume '%s': qemu-img could not calibrate the LUKS "
                        "key derivation (attempt %u of %u), retrying"),
                      vol->name, attempt, SP_PBKDF_ATTEMPTS);
            sp_fs_tmp_clear(t);
            continue;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
}

/* What was built must be what was asked for, within the policy (raw
 * volumes carry guest data that nothing will probe: only their size). */
static gboolean
sp_create_check_built(SpPool *pool, const SpVolume *vol, int fd, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), vol->name);
    g_autoptr(SpVolume) built = NULL;
    struct stat st;

    if (sp_volume_image_format(vol) != SP_FORMAT_RAW) {
        built = sp_volume_copy(vol);
        g_free(built->backing_path);
        built->backing_path = vol->backing_path
                                  ? sp_fs_normalize_abs(vol->backing_path, NULL)
                                  : NULL;
        return sp_pool_check_image(pool, fd, built, what, NULL, NULL, error);
    }
    if (fstat(fd, &st) < 0)
        return sp_error_set_errno(error, errno, "%s", what);
    if ((guint64)st.st_size > pool->policy->max_capacity) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: %" PRIu64 " bytes is more than the policy's "
                      "max_capacity of %" PRIu64 " bytes"),
                    what, (guint64)st.st_size, pool->policy->max_capacity);
        return FALSE;
    }
    return TRUE;
}

char *
sp_pool_create(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
               GError **error)
{
    static const SpCreateArgs none = {0};
    g_auto(SpCreateCtx) c = SP_CREATE_CTX_INIT;
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autoptr(SpIdentity) id = NULL;
    g_autofree char *path = g_build_filename(pool->path, vol->name, NULL);

    args = args ? args : &none;
    if (!sp_create_prepare(pool, vol, args, TRUE, &c, error))
        return NULL;
    if (vol->backing_path &&
        ((c.backing_fd =
              sp_pool_open_backing(pool, vol, &c.backing_lock, error)) < 0 ||
         !(c.backing_path = sp_fs_normalize_abs(vol->backing_path, error))))
        return NULL;
    if (!sp_create_check_source(pool, vol, &c, error))
        return NULL;
    id = sp_identity_for_volume(vol, path, pool->policy->default_mode, error);
    if (!id || !sp_create_build(pool, vol, args, &c, id, &t, error) ||
        !sp_create_check_built(pool, vol, t.fd, error))
        return NULL;
    if (fsync(t.fd) < 0) {
        sp_error_set_errno(error, errno, _("volume '%s': fsync"), vol->name);
        return NULL;
    }
    if (!sp_fs_tmp_publish(&t, vol->name, error))
        return NULL;
    if (fsync(pool->fd) < 0)
        g_debug("pool '%s': fsync: %s", pool->path, g_strerror(errno));
    return g_steal_pointer(&path);
}
