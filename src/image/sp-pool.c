/* The executor's pool: opening a directory pool (and sweeping the temporaries
 * of crashed operations), listing volumes and reading what was recorded. */
#include "image/sp-pool-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "image/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

void
sp_vol_info_free(SpVolInfo *i)
{
    if (!i)
        return;
    g_free(i->name);
    g_free(i->backing_path);
    g_free(i->secret_uuid);
    g_free(i->secret_usage);
    g_free(i);
}

/* Remove temporary @name if nobody holds its byte-0 lock: a live creator
 * holds it from just after creation until publish or cleanup. */
static gboolean
sweep_one(SpPool *pool, const char *name)
{
    g_autoptr(GError) local = NULL;
    struct stat st, st2;
    g_autofd int fd = -1;

    if (!sp_fs_lstat(pool->fd, name, &st, NULL) || !S_ISREG(st.st_mode))
        return FALSE;
    fd = sp_fs_openat(pool->fd, name, O_RDWR | O_NONBLOCK, 0, NULL);
    if (fd < 0)
        return FALSE;
    if (!sp_lock_fd_byte0(fd, TRUE, NULL))
        return FALSE;
    /* Only unlink the very file we hold locked. */
    if (fstat(fd, &st) < 0 || !sp_fs_lstat(pool->fd, name, &st2, NULL) ||
        st.st_dev != st2.st_dev || st.st_ino != st2.st_ino)
        return FALSE;
    if (!sp_fs_unlink(pool->fd, name, FALSE, TRUE, &local)) {
        g_warning("pool '%s': cannot remove stale temporary '%s': %s",
                  pool->path, name, local->message);
        return FALSE;
    }
    g_debug("pool '%s': removed stale temporary '%s'", pool->path, name);
    return TRUE;
}

SpPool *
sp_pool_open(const char *path, const SpPolicy *policy, GError **error)
{
    return sp_pool_open_full(path, policy, TRUE, error);
}

SpPool *
sp_pool_open_full(const char *path, const SpPolicy *policy, gboolean sweep,
                  GError **error)
{
    g_autofree char *norm = NULL;
    g_autoptr(GPtrArray) names = NULL;
    SpPool *pool;
    int fd;

    norm = sp_fs_normalize_abs(path, error);
    if (!norm)
        return NULL;
    fd = sp_fs_open_dir(norm, error);
    if (fd < 0)
        return NULL;
    pool = g_new0(SpPool, 1);
    pool->fd = fd;
    pool->path = g_steal_pointer(&norm);
    pool->policy = policy;
    if (!sweep)
        return pool;
    names = sp_fs_list(pool->fd, error);
    if (!names) {
        sp_pool_free(pool);
        return NULL;
    }
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        if (g_str_has_prefix(n, SP_TMP_PREFIX) && sweep_one(pool, n))
            pool->swept++;
    }
    return pool;
}

void
sp_pool_free(SpPool *pool)
{
    if (!pool)
        return;
    if (pool->fd >= 0)
        close(pool->fd);
    g_free(pool->path);
    g_free(pool);
}

int
sp_pool_fd(const SpPool *pool)
{
    return pool->fd;
}

const char *
sp_pool_path(const SpPool *pool)
{
    return pool->path;
}

guint
sp_pool_swept(const SpPool *pool)
{
    return pool->swept;
}

int
sp_pool_open_volume(SpPool *pool, const char *name, int flags, struct stat *st,
                    GError **error)
{
    g_autofd int fd = -1;

    if (!sp_volume_check_name(name, error))
        return -1;
    /* O_NONBLOCK: a FIFO planted under a volume's name must not hang us. */
    fd = sp_fs_openat(pool->fd, name, flags | O_NONBLOCK, 0, error);
    if (fd < 0) {
        if (error && *error && g_error_matches(*error, SP_ERROR, SP_ERROR_NOT_FOUND)) {
            g_clear_error(error);
            g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                        _("volume '%s': no such volume in pool '%s'"), name,
                        pool->path);
        }
        return -1;
    }
    if (fstat(fd, st) < 0) {
        sp_error_set_errno(error, errno, _("volume '%s': stat"), name);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': not a regular file"), name);
        return -1;
    }
    return g_steal_fd(&fd);
}

/* An xattr as a string; NULL when absent or unsupported. */
static char *
get_xattr(int fd, const char *key)
{
    gsize len = 0;
    g_autofree char *v = sp_fs_fgetxattr(fd, key, &len, NULL);

    if (!v)
        return NULL;
    return g_strndup(v, len);
}

SpVolume *
sp_pool_read_volume(SpPool *pool, const char *name, int fd,
                    const struct stat *st, GError **error)
{
    g_autoptr(SpVolume) vol = NULL;
    g_autofree char *def = get_xattr(fd, SP_XATTR_DEFINITION);
    g_autofree char *fmt = get_xattr(fd, SP_XATTR_FORMAT);
    g_autofree char *enc = get_xattr(fd, SP_XATTR_ENCRYPTION);
    g_autofree char *backing = get_xattr(fd, SP_XATTR_BACKING);
    g_autofree char *bfmt = get_xattr(fd, SP_XATTR_BACKING_FORMAT);
    SpFormat img;

    if (def) {
        g_autoptr(GError) local = NULL;
        vol = sp_volume_parse(def, strlen(def), &local);
        if (!vol)
            g_debug("volume '%s': recorded definition ignored: %s", name,
                    local->message);
    }
    if (!vol)
        vol = sp_volume_new();
    g_free(vol->name);
    vol->name = g_strdup(name);
    /* The format xattrs win over the stored XML: they are what was built. */
    vol->format = fmt ? sp_format_from_string(fmt) : SP_FORMAT_UNKNOWN;
    vol->encryption.enabled = enc && g_str_equal(enc, "luks");
    if (vol->encryption.enabled && !vol->encryption.format)
        vol->encryption.format = g_strdup("luks");
    g_free(vol->backing_path);
    vol->backing_path = g_steal_pointer(&backing);
    vol->backing_format = vol->backing_path ? sp_format_from_string(bfmt)
                                            : SP_FORMAT_UNKNOWN;

    img = sp_volume_image_format(vol);
    vol->capacity = (guint64)st->st_size;
    if (img != SP_FORMAT_RAW && img != SP_FORMAT_UNKNOWN) {
        g_autoptr(SpInspectResult) r = sp_inspect_fd(fd, img, pool->policy, error);
        if (!r)
            return NULL;
        vol->capacity = r->virtual_size;
    }
    vol->has_allocation = TRUE;
    vol->allocation = (guint64)st->st_blocks * 512;
    vol->has_mode = TRUE;
    vol->mode = st->st_mode & 07777;
    vol->owner = st->st_uid;
    vol->group = st->st_gid;
    return g_steal_pointer(&vol);
}

SpVolume *
sp_pool_lookup(SpPool *pool, const char *name, GError **error)
{
    struct stat st;
    g_autofd int fd = sp_pool_open_volume(pool, name, O_RDONLY, &st, error);

    if (fd < 0)
        return NULL;
    return sp_pool_read_volume(pool, name, fd, &st, error);
}

static SpVolInfo *
info_from_volume(const SpVolume *v)
{
    SpVolInfo *i = g_new0(SpVolInfo, 1);

    i->name = g_strdup(v->name);
    i->format = v->format;
    i->encrypted = v->encryption.enabled;
    i->capacity = v->capacity;
    i->allocation = v->allocation;
    i->backing_path = g_strdup(v->backing_path);
    i->backing_format = v->backing_format;
    i->mode = v->mode;
    i->owner = (uid_t)v->owner;
    i->group = (gid_t)v->group;
    i->secret_uuid = g_strdup(v->encryption.secret_uuid);
    i->secret_usage = g_strdup(v->encryption.secret_usage);
    return i;
}

SpVolInfo *
sp_pool_info(SpPool *pool, const char *name, GError **error)
{
    g_autoptr(SpVolume) v = sp_pool_lookup(pool, name, error);

    if (!v)
        return NULL;
    return info_from_volume(v);
}

/* Volume names of the pool: visible regular files. */
static GPtrArray *
volume_names(SpPool *pool, GError **error)
{
    g_autoptr(GPtrArray) names = sp_fs_list(pool->fd, error);
    GPtrArray *out;

    if (!names)
        return NULL;
    out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        struct stat st;
        if (n[0] == '.' || !sp_fs_lstat(pool->fd, n, &st, NULL) ||
            !S_ISREG(st.st_mode))
            continue;
        g_ptr_array_add(out, g_strdup(n));
    }
    return out;
}

GPtrArray *
sp_pool_list(SpPool *pool, GError **error)
{
    g_autoptr(GPtrArray) names = volume_names(pool, error);
    g_autoptr(GPtrArray) out = NULL;

    if (!names)
        return NULL;
    out = g_ptr_array_new_with_free_func((GDestroyNotify)sp_vol_info_free);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autoptr(GError) local = NULL;
        SpVolInfo *info = sp_pool_info(pool, n, &local);
        if (!info) {
            /* Deleted meanwhile, or a name the policy refuses: not a volume. */
            g_debug("pool '%s': skipping '%s': %s", pool->path, n, local->message);
            continue;
        }
        g_ptr_array_add(out, info);
    }
    return g_steal_pointer(&out);
}

gboolean
sp_pool_find_user(SpPool *pool, const char *name, char **user, GError **error)
{
    g_autoptr(GPtrArray) names = volume_names(pool, error);
    g_autofree char *path = g_build_filename(pool->path, name, NULL);

    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofd int fd = -1;
        g_autofree char *b = NULL;
        g_autofree char *nb = NULL;

        if (g_str_equal(n, name))
            continue;
        fd = sp_fs_openat(pool->fd, n, O_RDONLY | O_NONBLOCK, 0, NULL);
        if (fd < 0)
            continue;
        b = get_xattr(fd, SP_XATTR_BACKING);
        if (!b)
            continue;
        nb = sp_fs_normalize_abs(b, NULL);
        if (nb && g_str_equal(nb, path)) {
            *user = g_strdup(n);
            return TRUE;
        }
    }
    *user = NULL;
    return FALSE;
}
