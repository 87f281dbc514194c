/* Creating and cloning volumes: checks, locks, the backing store resolved fd
 * by fd and inspected, the build under a hidden temporary, the atomic
 * publish, and removal of the temporary on every failure path. */
#include "image/sp-pool-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "image/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

/* A temporary under construction: unlinked unless published. */
typedef struct {
    int dirfd;
    char *name;
    int fd;
} SpTmp;

static void
sp_tmp_clear(SpTmp *t)
{
    if (t->name) {
        if (unlinkat(t->dirfd, t->name, 0) < 0 && errno != ENOENT)
            g_warning("cannot remove temporary '%s': %s", t->name, g_strerror(errno));
        g_clear_pointer(&t->name, g_free);
    }
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpTmp, sp_tmp_clear)

/* Everything a create needs besides the temporary, released together. */
typedef struct {
    SpLock *name_lock;
    SpLock *src_lock;
    SpLock *backing_lock;
    int src_fd;
    int backing_fd;
    SpVolume *source;
    char *source_path;
    guint64 src_size;
} SpCreateCtx;

static void
sp_create_ctx_clear(SpCreateCtx *c)
{
    g_clear_pointer(&c->backing_lock, sp_lock_release);
    g_clear_pointer(&c->src_lock, sp_lock_release);
    g_clear_pointer(&c->name_lock, sp_lock_release);
    if (c->src_fd >= 0)
        close(c->src_fd);
    if (c->backing_fd >= 0)
        close(c->backing_fd);
    c->src_fd = c->backing_fd = -1;
    g_clear_pointer(&c->source, sp_volume_free);
    g_clear_pointer(&c->source_path, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpCreateCtx, sp_create_ctx_clear)

/* Open the clone source, shared-locked, and read its recorded definition. */
static gboolean
open_source(SpPool *pool, const char *from, gboolean lock, SpCreateCtx *c,
            GError **error)
{
    struct stat st;

    if (!sp_volume_check_name(from, error))
        return FALSE;
    if (lock) {
        c->src_lock = sp_lock_acquire(pool->fd, from, FALSE, error);
        if (!c->src_lock)
            return FALSE;
    }
    c->src_fd = sp_pool_open_volume(pool, from, O_RDONLY, &st, error);
    if (c->src_fd < 0)
        return FALSE;
    c->source = sp_pool_read_volume(pool, from, c->src_fd, &st, error);
    if (!c->source)
        return FALSE;
    if (c->source->format == SP_FORMAT_UNKNOWN) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': no recorded format (not created by safepool), "
                      "cannot clone it"),
                    from);
        return FALSE;
    }
    c->src_size = (guint64)st.st_size;
    c->source_path = g_build_filename(pool->path, from, NULL);
    return TRUE;
}

int
sp_pool_open_backing(SpPool *pool, const SpVolume *vol, SpLock **lock,
                     GError **error)
{
    g_autofree char *path = sp_fs_normalize_abs(vol->backing_path, error);
    g_autofd int fd = -1;
    g_autofree char *rel = NULL;
    g_autofree char *what = NULL;
    gboolean in_pool;
    struct stat st;

    if (!path)
        return -1;
    what = g_strdup_printf(_("volume '%s': backing store '%s'"), vol->name, path);
    rel = sp_fs_relative_to(pool->path, path);
    in_pool = rel != NULL;
    if (in_pool) {
        if (lock && !strchr(rel, '/')) {
            *lock = sp_lock_acquire(pool->fd, rel, FALSE, error);
            if (!*lock)
                return -1;
        }
        fd = sp_fs_openat(pool->fd, rel, O_RDONLY | O_NONBLOCK, 0, error);
    } else {
        for (char **r = pool->policy->backing_roots; r && *r && !rel; r++) {
            g_autofree char *root = sp_fs_normalize_abs(*r, NULL);
            g_autofd int root_fd = -1;
            rel = root ? sp_fs_relative_to(root, path) : NULL;
            if (!rel)
                continue;
            root_fd = sp_fs_open_dir(root, error);
            if (root_fd < 0) {
                g_prefix_error(error, "%s: ", what);
                return -1;
            }
            fd = sp_fs_openat(root_fd, rel, O_RDONLY | O_NONBLOCK, 0, error);
        }
        if (!rel) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("%s: outside the pool and the backing roots"), what);
            return -1;
        }
    }
    if (fd < 0) {
        g_prefix_error(error, "%s: ", what);
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        sp_error_set_errno(error, errno, "%s", what);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID, _("%s: not a regular file"), what);
        return -1;
    }
    if (in_pool && !strchr(rel, '/')) {
        g_autoptr(SpVolume) rec = sp_pool_read_volume(pool, rel, fd, &st, error);
        SpFormat recorded;
        if (!rec)
            return -1;
        recorded = sp_volume_image_format(rec);
        if (recorded != SP_FORMAT_UNKNOWN && recorded != vol->backing_format) {
            g_set_error(error, SP_ERROR, SP_ERROR_FORMAT_MISMATCH,
                        _("%s: recorded format is %s, not %s"), what,
                        sp_format_to_string(recorded),
                        sp_format_to_string(vol->backing_format));
            return -1;
        }
    }
    if (!sp_inspect_check(fd, vol->backing_format, pool->policy, what, NULL, error))
        return -1;
    return g_steal_fd(&fd);
}

static gboolean
open_backing(SpPool *pool, const SpVolume *vol, SpCreateCtx *c, GError **error)
{
    c->backing_fd = sp_pool_open_backing(pool, vol, &c->backing_lock, error);
    return c->backing_fd >= 0;
}

/* Checks shared by create and plan; fills @c (locks only when @lock). */
static gboolean
prepare(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
        gboolean lock, gboolean replace, SpCreateCtx *c, GError **error)
{
    struct stat st;
    g_autoptr(GError) local = NULL;

    if (!sp_volume_check_policy(vol, pool->policy, pool->path, NULL, error))
        return FALSE;
    if (lock) {
        c->name_lock = sp_lock_acquire(pool->fd, vol->name, TRUE, error);
        if (!c->name_lock)
            return FALSE;
    }
    if (replace) {
        if (!sp_fs_lstat(pool->fd, vol->name, &st, error))
            return FALSE;
        if (!S_ISREG(st.st_mode)) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume '%s': not a regular file"), vol->name);
            return FALSE;
        }
    } else if (sp_fs_lstat(pool->fd, vol->name, &st, &local)) {
        g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                    _("volume '%s': already exists in pool '%s'"), vol->name,
                    pool->path);
        return FALSE;
    } else if (!g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (args && args->from && !open_source(pool, args->from, lock, c, error))
        return FALSE;
    if (vol->encryption.enabled && lock && (!args || !args->secret)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': element 'target/encryption': a secret is needed"),
                    vol->name);
        return FALSE;
    }
    return TRUE;
}

SpPlan *
sp_pool_plan_create(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
                    GError **error)
{
    g_auto(SpCreateCtx) c = {.src_fd = -1, .backing_fd = -1};
    SpPlanCreateArgs pa = {.pool_path = pool->path};

    if (!prepare(pool, vol, args, FALSE, FALSE, &c, error))
        return NULL;
    pa.source = c.source;
    pa.source_path = c.source_path;
    pa.prealloc_metadata = args && args->prealloc_metadata;
    return sp_plan_create(pool->policy, vol, &pa, error);
}

/* How often a LUKS create is tried when qemu's PBKDF calibration fails.
 * qemu 7.2 times 2^15 iterations on the thread CPU clock and gives up when
 * it reads 0 ms, which SHA-NI makes common (up to ~45% of creates with
 * sha256 on this project's machine). A failed attempt costs milliseconds;
 * 20 attempts fail together about once in 10^7. */
#define SP_PBKDF_ATTEMPTS 20

/* qemu-img writes the temporary by path. It must still be the inode we
 * hold (locked, and about to get mode, xattrs and inspection through the
 * fd): qemu deletes its file when a create fails, and a path is not ours. */
static gboolean
tmp_still_ours(SpPool *pool, const SpTmp *t, const char *name, GError **error)
{
    struct stat a, b;

    if (fstat(t->fd, &a) == 0 && sp_fs_lstat(pool->fd, t->name, &b, NULL) &&
        S_ISREG(b.st_mode) && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        return TRUE;
    g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                _("volume '%s': temporary '%s' was removed or replaced while "
                  "qemu-img ran"), name, t->name);
    return FALSE;
}

/* Create the temporary and hold its byte-0 lock. A concurrent pool open may
 * sweep a fresh temporary before its lock is taken: then start over. */
static gboolean
make_tmp(SpPool *pool, const char *name, SpTmp *t, GError **error)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        struct stat a, b;
        g_autofree char *tmpname = NULL;
        g_autofd int fd = sp_fs_create_tmp(pool->fd, name, &tmpname, error);

        if (fd < 0)
            return FALSE;
        if (sp_lock_fd_byte0(fd, TRUE, NULL) && fstat(fd, &a) == 0 &&
            sp_fs_lstat(pool->fd, tmpname, &b, NULL) && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            t->fd = g_steal_fd(&fd);
            t->name = g_steal_pointer(&tmpname);
            return TRUE;
        }
    }
    g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                _("volume '%s': cannot keep a temporary file in pool '%s'"), name,
                pool->path);
    return FALSE;
}

static gboolean
set_xattr_str(int fd, const char *key, const char *value, GError **error)
{
    return sp_fs_fsetxattr(fd, key, value, strlen(value), error);
}

/* Mode, owner, label and the recorded definition, all on the fd. */
static gboolean
record(SpPool *pool, const SpVolume *vol, int fd, const char *path, GError **error)
{
    guint32 mode = vol->has_mode ? vol->mode
                                 : (pool->policy->default_mode ? pool->policy->default_mode
                                                               : 0600);
    uid_t uid = vol->owner >= 0 ? (uid_t)vol->owner : (uid_t)-1;
    gid_t gid = vol->group >= 0 ? (gid_t)vol->group : (gid_t)-1;
    g_autofree char *xml = NULL;
    g_autofree char *backing = NULL;

    if (!sp_fs_fset_perms(fd, mode, uid, gid, error))
        return FALSE;
    if (vol->label && is_selinux_enabled() > 0 && fsetfilecon(fd, vol->label) < 0)
        return sp_error_set_errno(error, errno, _("volume '%s': label '%s'"),
                                  vol->name, vol->label);
    if (!set_xattr_str(fd, SP_XATTR_FORMAT, sp_format_to_string(vol->format), error))
        return FALSE;
    if (vol->encryption.enabled &&
        !set_xattr_str(fd, SP_XATTR_ENCRYPTION, "luks", error))
        return FALSE;
    if (vol->backing_path) {
        backing = sp_fs_normalize_abs(vol->backing_path, error);
        if (!backing || !set_xattr_str(fd, SP_XATTR_BACKING, backing, error) ||
            !set_xattr_str(fd, SP_XATTR_BACKING_FORMAT,
                           sp_format_to_string(vol->backing_format), error))
            return FALSE;
    }
    xml = sp_volume_to_xml(vol, path);
    return xml && set_xattr_str(fd, SP_XATTR_DEFINITION, xml, error);
}

/* Create @vol under a temporary; publish it under its name, or with
 * @replace exchange it with the existing volume (kept until then). */
static char *
create_volume(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
              gboolean replace, GError **error)
{
    g_auto(SpCreateCtx) c = {.src_fd = -1, .backing_fd = -1};
    g_auto(SpTmp) t = {.dirfd = pool->fd, .fd = -1};
    SpPlanCreateArgs pa = {.pool_path = pool->path};
    g_autoptr(SpPlan) plan = NULL;
    g_autofree char *target = NULL;
    g_autofree char *path = g_build_filename(pool->path, vol->name, NULL);

    if (!prepare(pool, vol, args, TRUE, replace, &c, error))
        return NULL;
    if (vol->backing_path && !open_backing(pool, vol, &c, error))
        return NULL;
    if (c.source && sp_volume_image_format(c.source) != SP_FORMAT_RAW &&
        !sp_pool_check_volume_image(pool, c.src_fd, c.source, error))
        return NULL;
    if (c.source && sp_volume_image_format(c.source) == SP_FORMAT_RAW &&
        sp_volume_image_format(vol) != SP_FORMAT_RAW &&
        !sp_inspect_check(c.src_fd, SP_FORMAT_RAW, pool->policy, c.source->name,
                          NULL, error))
        return NULL;
    pa.source = c.source;
    pa.source_path = c.source_path;
    pa.prealloc_metadata = args && args->prealloc_metadata;
    for (guint attempt = 1;; attempt++) {
        g_autoptr(GError) local = NULL;

        if (!make_tmp(pool, vol->name, &t, error))
            return NULL;
        g_free(target);
        target = g_build_filename(pool->path, t.name, NULL);
        pa.target_path = target;
        g_clear_pointer(&plan, sp_plan_free);
        plan = sp_plan_create(pool->policy, vol, &pa, error);
        if (!plan)
            return NULL;
        if (sp_pool_run_plan(pool, plan, t.fd, c.src_fd, c.src_size,
                             args ? args->secret : NULL, &local) &&
            tmp_still_ours(pool, &t, vol->name, &local))
            break;
        /* qemu's PBKDF calibration failure (see SP_PBKDF_ATTEMPTS), and
         * only it, is retried, from a new temporary: qemu deleted its file. */
        if (vol->encryption.enabled && attempt < SP_PBKDF_ATTEMPTS &&
            strstr(local->message, "Unable to get accurate CPU usage")) {
            g_warning(_("volume '%s': qemu-img could not calibrate the LUKS key "
                        "derivation (attempt %u of %u), retrying"),
                      vol->name, attempt, SP_PBKDF_ATTEMPTS);
            sp_tmp_clear(&t);
            continue;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    if (!record(pool, vol, t.fd, path, error))
        return NULL;
    /* What qemu-img built must be what was asked for (raw clones carry guest
     * data that nothing will probe, so they are not inspected). */
    if (sp_volume_image_format(vol) != SP_FORMAT_RAW) {
        g_autoptr(SpVolume) built = sp_volume_copy(vol);
        g_free(built->backing_path);
        built->backing_path = vol->backing_path ? sp_fs_normalize_abs(vol->backing_path, NULL)
                                                : NULL;
        if (!sp_pool_check_volume_image(pool, t.fd, built, error))
            return NULL;
    }
    if (fsync(t.fd) < 0) {
        sp_error_set_errno(error, errno, _("volume '%s': fsync"), vol->name);
        return NULL;
    }
    if (replace) {
        /* t.name now holds the old volume, which its cleanup removes. */
        if (!sp_fs_exchange(pool->fd, t.name, vol->name, error))
            return NULL;
    } else {
        if (!sp_fs_publish(pool->fd, t.name, vol->name, error))
            return NULL;
        g_clear_pointer(&t.name, g_free);
    }
    if (fsync(pool->fd) < 0)
        g_debug("pool '%s': fsync: %s", pool->path, g_strerror(errno));
    return g_steal_pointer(&path);
}

char *
sp_pool_create(SpPool *pool, const SpVolume *vol, const SpCreateArgs *args,
               GError **error)
{
    return create_volume(pool, vol, args, FALSE, error);
}

gboolean
sp_pool_recreate(SpPool *pool, const SpVolume *vol, GError **error)
{
    g_autofree char *path = create_volume(pool, vol, NULL, TRUE, error);

    return path != NULL;
}
