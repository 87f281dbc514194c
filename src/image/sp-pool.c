/* The executor's pool: opening a directory pool (and sweeping the temporaries
 * of crashed operations), listing volumes and reading what was recorded. */
#include "image/sp-pool-private.h"

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
    g_autoptr(SpPool) pool = NULL;
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
    if (sweep && !sp_pool_sweep(pool, error))
        return NULL;
    return g_steal_pointer(&pool);
}

gboolean
sp_pool_sweep(SpPool *pool, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("pool '%s'"), pool->path);
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);

    if (!sp_fs_sweep(pool->fd, what, removed, error))
        return FALSE;
    pool->swept += removed->len;
    return TRUE;
}

void
sp_pool_free(SpPool *pool)
{
    if (!pool)
        return;
    g_clear_fd(&pool->fd, NULL);
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

const SpPolicy *
sp_pool_policy(const SpPool *pool)
{
    return pool->policy;
}

guint
sp_pool_swept(const SpPool *pool)
{
    return pool->swept;
}

void
sp_pool_lookup_error(const SpPool *pool, const char *name, GError *local,
                     GError **error)
{
    if (g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND)) {
        g_error_free(local);
        g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                    _("volume '%s': no such volume in pool '%s'"), name,
                    pool->path);
    } else {
        g_propagate_error(error, local);
    }
}

int
sp_pool_open_volume(SpPool *pool, const char *name, int flags, struct stat *st,
                    GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofd int fd = -1;

    if (!sp_volume_check_name(name, error))
        return -1;
    /* O_NONBLOCK: a FIFO planted under a volume's name must not hang us. */
    fd = sp_fs_openat(pool->fd, name, flags | O_NONBLOCK, 0, &local);
    if (fd < 0) {
        sp_pool_lookup_error(pool, name, g_steal_pointer(&local), error);
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

gboolean
sp_pool_check_single_link(const struct stat *st, const char *what,
                          GError **error)
{
    if (st->st_nlink <= 1)
        return TRUE;
    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("%s: has %lu hard links; a file reachable under another "
                  "name is never used as a backing store or source"),
                what, (unsigned long)st->st_nlink);
    return FALSE;
}

/* What the recorded keys say, over the definition (or a blank volume). */
static SpVolume *
volume_from_identity(const SpIdentity *id, const char *name)
{
    const char *def = sp_identity_get(id, SP_ID_DEFINITION);
    const char *fmt = sp_identity_get(id, SP_ID_FORMAT);
    const char *enc = sp_identity_get(id, SP_ID_ENCRYPTION);
    const char *backing = sp_identity_get(id, SP_ID_BACKING);
    g_autoptr(SpVolume) vol = NULL;

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
    /* The format keys win over the stored XML: they are what was built. */
    vol->format = fmt ? sp_format_from_string(fmt) : SP_FORMAT_UNKNOWN;
    vol->encryption.enabled = enc && g_str_equal(enc, "luks");
    if (vol->encryption.enabled && !vol->encryption.format)
        vol->encryption.format = g_strdup("luks");
    g_free(vol->backing_path);
    vol->backing_path = g_strdup(backing);
    vol->backing_format =
        backing
            ? sp_format_from_string(sp_identity_get(id, SP_ID_BACKING_FORMAT))
            : SP_FORMAT_UNKNOWN;
    vol->label = vol->label ? vol->label : g_strdup(id->label);
    return g_steal_pointer(&vol);
}

/* What a volume has allocated, as libvirt counts it: blocks on disk. For
 * a raw file at most its size: the blocks of its extended attributes (an
 * ext4 file's record takes one) and filesystem rounding are not the
 * guest's data, and a clone's XML (virt-clone copies it) must not ask for
 * more than the capacity. */
static guint64
volume_allocation(SpFormat img, const struct stat *st)
{
    guint64 blocks = (guint64)st->st_blocks * 512;

    if (img == SP_FORMAT_RAW || img == SP_FORMAT_LUKS ||
        img == SP_FORMAT_UNKNOWN)
        return MIN(blocks, (guint64)st->st_size);
    return blocks;
}

/* The virtual size of a volume of recorded image format @img, from the
 * one field that holds it; the file's size when nothing is recorded or
 * the header is gone (listing a broken volume must not fail the pool). */
static guint64
volume_capacity(int fd, SpFormat img, const struct stat *st, const char *name)
{
    g_autoptr(GError) local = NULL;
    guint64 size = (guint64)st->st_size;

    if (img == SP_FORMAT_UNKNOWN || img == SP_FORMAT_RAW)
        return size;
    if (!sp_inspect_virtual_size(fd, img, &size, &local)) {
        g_debug("volume '%s': %s", name, local->message);
        return (guint64)st->st_size;
    }
    return size;
}

SpVolume *
sp_pool_read_volume(SpPool *pool, const char *name, int fd,
                    const struct stat *st, GError **error)
{
    g_autoptr(SpIdentity) id = sp_identity_read(fd, SP_IDENTITY_ALL, error);
    g_autoptr(SpVolume) vol = NULL;

    if (!id) {
        g_prefix_error(error, _("volume '%s': "), name);
        return NULL;
    }
    vol = volume_from_identity(id, name);
    vol->has_capacity = TRUE;
    vol->capacity = volume_capacity(fd, sp_volume_image_format(vol), st, name);
    vol->has_allocation = TRUE;
    vol->allocation = volume_allocation(sp_volume_image_format(vol), st);
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

/* A listing entry from the recorded keys alone: the definition is parsed
 * only for an encrypted volume, whose secret libvirt needs back. */
static SpVolInfo *
info_read(SpPool *pool, const char *name, GError **error)
{
    g_autoptr(SpIdentity) id = NULL;
    g_autoptr(SpVolume) enc = NULL;
    struct stat st;
    g_autofd int fd = sp_pool_open_volume(pool, name, O_RDONLY, &st, error);
    const char *fmt, *backing;
    SpVolInfo *i;
    SpFormat img;

    if (fd < 0)
        return NULL;
    id = sp_identity_read(fd, SP_IDENTITY_SUMMARY, error);
    if (!id)
        return NULL;
    fmt = sp_identity_get(id, SP_ID_FORMAT);
    backing = sp_identity_get(id, SP_ID_BACKING);
    i = g_new0(SpVolInfo, 1);
    i->name = g_strdup(name);
    i->recorded = fmt != NULL;
    i->format = fmt ? sp_format_from_string(fmt) : SP_FORMAT_UNKNOWN;
    i->encrypted =
        g_strcmp0(sp_identity_get(id, SP_ID_ENCRYPTION), "luks") == 0;
    img =
        i->encrypted && i->format == SP_FORMAT_RAW ? SP_FORMAT_LUKS : i->format;
    i->capacity = volume_capacity(fd, img, &st, name);
    i->allocation = volume_allocation(img, &st);
    i->backing_path = g_strdup(backing);
    i->backing_format =
        backing
            ? sp_format_from_string(sp_identity_get(id, SP_ID_BACKING_FORMAT))
            : SP_FORMAT_UNKNOWN;
    i->mode = st.st_mode & 07777;
    i->owner = st.st_uid;
    i->group = st.st_gid;
    if (i->encrypted &&
        (enc = sp_pool_read_volume(pool, name, fd, &st, NULL))) {
        i->secret_uuid = g_strdup(enc->encryption.secret_uuid);
        i->secret_usage = g_strdup(enc->encryption.secret_usage);
    }
    return i;
}

SpVolInfo *
sp_pool_info(SpPool *pool, const char *name, GError **error)
{
    return info_read(pool, name, error);
}

/* Volume names of the pool: visible regular files with valid names. */
static GPtrArray *
volume_names(SpPool *pool, GError **error)
{
    g_autoptr(GPtrArray) names = sp_fs_list_files(pool->fd, error);

    if (!names)
        return NULL;
    for (guint i = names->len; i > 0; i--) {
        const char *n = g_ptr_array_index(names, i - 1);

        if (n[0] == '.' || !sp_volume_check_name(n, NULL))
            g_ptr_array_remove_index(names, i - 1);
    }
    return g_steal_pointer(&names);
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
        SpVolInfo *info = info_read(pool, n, &local);

        if (!info) {
            /* Deleted meanwhile, or not a regular file: not a volume. */
            g_debug("pool '%s': skipping '%s': %s", pool->path, n,
                    local->message);
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

    *user = NULL;
    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autoptr(SpIdentity) id = NULL;
        g_autofree char *nb = NULL;
        g_autofd int fd = -1;
        const char *b;

        if (g_str_equal(n, name))
            continue;
        fd = sp_fs_openat(pool->fd, n, O_RDONLY | O_NONBLOCK, 0, NULL);
        if (fd < 0 || !(id = sp_identity_read(fd, SP_IDENTITY_SUMMARY, NULL)))
            continue;
        b = sp_identity_get(id, SP_ID_BACKING);
        nb = b ? sp_fs_normalize_abs(b, NULL) : NULL;
        if (nb && g_str_equal(nb, path)) {
            *user = g_strdup(n);
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
sp_pool_check_unused(SpPool *pool, const char *name, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *user = NULL;

    if (sp_pool_find_user(pool, name, &user, &local)) {
        g_set_error(
            error, SP_ERROR, SP_ERROR_IN_USE,
            _("volume '%s': in use as the backing store of volume '%s'"), name,
            user);
        return FALSE;
    }
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return TRUE;
}
