/* Volume callbacks: create/build/clone/refresh/delete/resize through the
 * core's validation, planner and executor. */
#include "backend/sp-backend.h"

#include <sys/stat.h>

#include "virerror.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.vol");

static const SpFlagName sp_create_flags[] = {
    {VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA,
     "VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA"},
    {VIR_STORAGE_VOL_CREATE_REFLINK, "VIR_STORAGE_VOL_CREATE_REFLINK"},
    {VIR_STORAGE_VOL_CREATE_VALIDATE, "VIR_STORAGE_VOL_CREATE_VALIDATE"},
    {0, NULL},
};

static const SpFlagName sp_resize_flags[] = {
    {VIR_STORAGE_VOL_RESIZE_ALLOCATE, "VIR_STORAGE_VOL_RESIZE_ALLOCATE"},
    {VIR_STORAGE_VOL_RESIZE_DELTA, "VIR_STORAGE_VOL_RESIZE_DELTA"},
    {VIR_STORAGE_VOL_RESIZE_SHRINK, "VIR_STORAGE_VOL_RESIZE_SHRINK"},
    {0, NULL},
};

static const SpFlagName sp_delete_flags[] = {
    {VIR_STORAGE_VOL_DELETE_ZEROED, "VIR_STORAGE_VOL_DELETE_ZEROED"},
    {VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS,
     "VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS"},
    {0, NULL},
};

/* Volumes whose build failed in this process ("<pool path>/<name>"):
 * libvirt then calls deleteVol for a volume that was never made. Nothing
 * of safepool's exists under that name (a failed build publishes
 * nothing), so that call removes nothing, and raises nothing over the
 * build's own error. */
static GMutex sp_failed_lock;
static GHashTable *sp_failed_builds;

static char *
sp_failed_key(virStoragePoolObj *obj, const char *name)
{
    return g_build_filename(virStoragePoolObjGetDef(obj)->target.path, name,
                            NULL);
}

static void
sp_failed_add(virStoragePoolObj *obj, const char *name)
{
    g_mutex_lock(&sp_failed_lock);
    if (!sp_failed_builds)
        sp_failed_builds =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(sp_failed_builds, sp_failed_key(obj, name));
    g_mutex_unlock(&sp_failed_lock);
}

/* TRUE (and forgotten) when @name's build failed. */
static gboolean
sp_failed_take(virStoragePoolObj *obj, const char *name)
{
    g_autofree char *key = sp_failed_key(obj, name);
    gboolean found;

    g_mutex_lock(&sp_failed_lock);
    found = sp_failed_builds && g_hash_table_remove(sp_failed_builds, key);
    g_mutex_unlock(&sp_failed_lock);
    return found;
}

/* Runs with the pool locked, for create and clone alike: lexical checks
 * only (name, policy), and the path computed here — vol->target.path may
 * still be the clone source's. */
int
sp_backend_create_vol(virStoragePoolObj *obj, virStorageVolDef *vol)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpVolume) v = NULL;
    g_autofree char *path = NULL;
    struct stat st;

    if (!sp_volume_check_name(vol->name, &error) ||
        !(policy = sp_backend_policy(&error)) ||
        !(v = sp_backend_volume_from_def(vol, &error)) ||
        !sp_volume_check_policy(v, policy, def->target.path, NULL, &error)) {
        sp_backend_report(error);
        return -1;
    }
    path = g_build_filename(def->target.path, vol->name, NULL);
    if (lstat(path, &st) == 0) {
        /* libvirt words it "storage volume '<name>' exists already" */
        virReportError(VIR_ERR_STORAGE_VOL_EXIST, "'%s'", vol->name);
        return -1;
    }
    vol->type = VIR_STORAGE_VOL_FILE;
    vol->target.type = VIR_STORAGE_TYPE_FILE;
    g_free(vol->target.path);
    vol->target.path = g_steal_pointer(&path);
    g_free(vol->key);
    vol->key = g_strdup(vol->target.path);
    return 0;
}

/* The clone source's own pool: the directory its path is in (this pool,
 * or another dir pool, which safepool serves as well). */
static SpPool *
sp_source_pool(virStoragePoolObj *obj, virStorageVolDef *inputvol,
               const SpPolicy *policy, GError **error)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autofree char *srcdir = NULL;

    if (!inputvol->target.path || !g_path_is_absolute(inputvol->target.path)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("clone source '%s': not a file of a directory pool"),
                    inputvol->name);
        return NULL;
    }
    srcdir = g_path_get_dirname(inputvol->target.path);
    if (g_strcmp0(srcdir, def->target.path) == 0)
        return NULL;
    return sp_pool_open_full(srcdir, policy, FALSE, error);
}

static int
sp_build(virStoragePoolObj *obj, virStorageVolDef *vol,
         virStorageVolDef *inputvol, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(SpPool) src_pool = NULL;
    g_autoptr(SpVolume) v = NULL;
    g_autoptr(SpSecret) secret = NULL;
    g_autoptr(SpSecret) from_secret = NULL;
    g_autofree char *path = NULL;
    SpCreateArgs args = {0};

    /* VALIDATE (schema check of the XML) was done by libvirt. */
    if (!sp_backend_check_flags(flags,
                                VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA |
                                    VIR_STORAGE_VOL_CREATE_REFLINK |
                                    VIR_STORAGE_VOL_CREATE_VALIDATE,
                                sp_create_flags, vol->name))
        return -1;
    args.prealloc_metadata =
        !!(flags & VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA);
    args.reflink = !!(flags & VIR_STORAGE_VOL_CREATE_REFLINK);

    if (!(policy = sp_backend_policy(&error)) ||
        !(v = sp_backend_volume_from_def(vol, &error)) ||
        !sp_backend_secret(vol->target.encryption, &secret, &error) ||
        (inputvol && inputvol->target.encryption &&
         inputvol->target.encryption->nsecrets > 0 &&
         !sp_backend_secret(inputvol->target.encryption, &from_secret,
                            &error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        (inputvol &&
         !(src_pool = sp_source_pool(obj, inputvol, policy, &error)) &&
         error)) {
        sp_backend_report(error);
        return -1;
    }
    if (inputvol) {
        args.from = inputvol->name;
        args.from_pool = src_pool;
    }
    args.secret = secret;
    args.from_secret = from_secret;
    if (!(path = sp_pool_create(pool, v, &args, &error))) {
        sp_failed_add(obj, vol->name);
        sp_backend_report(error);
        return -1;
    }
    VIR_DEBUG("safepool: built %s", path);
    return 0;
}

int
sp_backend_build_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                     unsigned int flags)
{
    return sp_build(obj, vol, NULL, flags);
}

int
sp_backend_build_vol_from(virStoragePoolObj *obj, virStorageVolDef *vol,
                          virStorageVolDef *inputvol, unsigned int flags)
{
    return sp_build(obj, vol, inputvol, flags);
}

/* libvirt calls this with the pool it is working on, and during a clone
 * with the *source* volume, which may be another pool's: the volume is
 * read where its own path says it is, and a volume safepool has no record
 * of (another backend's) is left exactly as libvirt knows it. */
int
sp_backend_refresh_vol(virStoragePoolObj *obj, virStorageVolDef *vol)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(SpVolInfo) info = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    gboolean own;

    if (!vol->target.path || !g_path_is_absolute(vol->target.path))
        return 0;
    dir = g_path_get_dirname(vol->target.path);
    name = g_path_get_basename(vol->target.path);
    own = g_strcmp0(dir, def->target.path) == 0;
    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_pool_open_full(dir, policy, FALSE, &error)) ||
        !(info = sp_pool_info(pool, name, &error))) {
        if (!own)
            return 0;
        sp_backend_report(error);
        return -1;
    }
    if (!own && !info->recorded)
        return 0;
    sp_backend_def_fill(vol, info, dir);
    return 0;
}

int
sp_backend_delete_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                      unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;

    if (!sp_backend_check_flags(flags, 0, sp_delete_flags, vol->name))
        return -1;
    /* libvirt's cleanup after a failed build: nothing was made. */
    if (sp_failed_take(obj, vol->name))
        return 0;
    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !sp_pool_delete(pool, vol->name, &error)) {
        /* Gone already: as the stock backend, nothing left to delete. */
        if (g_error_matches(error, SP_ERROR, SP_ERROR_NOT_FOUND))
            return 0;
        sp_backend_report(error);
        return -1;
    }
    return 0;
}

int
sp_backend_resize_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                      unsigned long long capacity, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(SpSecret) secret = NULL;
    SpResizeFlags rf = 0;

    /* DELTA is resolved to an absolute size by the storage driver */
    if (!sp_backend_check_flags(flags,
                                VIR_STORAGE_VOL_RESIZE_ALLOCATE |
                                    VIR_STORAGE_VOL_RESIZE_DELTA |
                                    VIR_STORAGE_VOL_RESIZE_SHRINK,
                                sp_resize_flags, vol->name))
        return -1;
    if (flags & VIR_STORAGE_VOL_RESIZE_SHRINK)
        rf |= SP_RESIZE_SHRINK;
    if (flags & VIR_STORAGE_VOL_RESIZE_ALLOCATE)
        rf |= SP_RESIZE_ALLOCATE;
    if (!(policy = sp_backend_policy(&error)) ||
        (vol->target.encryption && vol->target.encryption->nsecrets > 0 &&
         !sp_backend_secret(vol->target.encryption, &secret, &error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !sp_pool_resize(pool, vol->name, capacity, rf, secret, &error)) {
        sp_backend_report(error);
        return -1;
    }
    return 0;
}
