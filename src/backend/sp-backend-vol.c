/* Volume callbacks: create/build/clone/refresh/delete/resize through the
 * core's validation, planner and executor. */
#include "backend/sp-backend.h"

#include <sys/stat.h>

#include "virerror.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.vol");

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
    g_free(vol->target.path);
    vol->target.path = g_steal_pointer(&path);
    g_free(vol->key);
    vol->key = g_strdup(vol->target.path);
    return 0;
}

static int
sp_build(virStoragePoolObj *obj, virStorageVolDef *vol,
         virStorageVolDef *inputvol, unsigned int flags)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(SpVolume) v = NULL;
    g_autoptr(SpSecret) secret = NULL;
    g_autoptr(SpSecret) from_secret = NULL;
    g_autofree char *path = NULL;
    SpCreateArgs args = { 0 };

    /* VALIDATE (schema check of the XML) was done by libvirt; REFLINK is
     * what the core tries first for a raw clone anyway */
    virCheckFlags(VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA |
                  VIR_STORAGE_VOL_CREATE_REFLINK |
                  VIR_STORAGE_VOL_CREATE_VALIDATE, -1);

    if (inputvol) {
        g_autofree char *srcdir = inputvol->target.path ?
            g_path_get_dirname(inputvol->target.path) : NULL;

        /* the core clones within one pool directory */
        if (!srcdir || g_strcmp0(srcdir, def->target.path) != 0) {
            virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                           "clone source '%s': not in pool '%s' (safepool "
                           "clones within a pool only)",
                           NULLSTR(inputvol->target.path), def->name);
            return -1;
        }
        args.from = inputvol->name;
    }
    args.prealloc_metadata = !!(flags & VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA);

    if (!(policy = sp_backend_policy(&error)) ||
        !(v = sp_backend_volume_from_def(vol, &error)) ||
        !sp_backend_secret(vol->target.encryption, &secret, &error) ||
        (inputvol && inputvol->target.encryption &&
         inputvol->target.encryption->nsecrets > 0 &&
         !sp_backend_secret(inputvol->target.encryption, &from_secret,
                            &error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error))) {
        sp_backend_report(error);
        return -1;
    }
    args.secret = secret;
    args.from_secret = from_secret;
    if (!(path = sp_pool_create(pool, v, &args, &error))) {
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

int
sp_backend_refresh_vol(virStoragePoolObj *obj, virStorageVolDef *vol)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(SpVolInfo) info = NULL;

    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !(info = sp_pool_info(pool, vol->name, &error))) {
        sp_backend_report(error);
        return -1;
    }
    sp_backend_def_fill(vol, info, def->target.path);
    return 0;
}

int
sp_backend_delete_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                      unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;

    virCheckFlags(0, -1);

    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !sp_pool_delete(pool, vol->name, &error)) {
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

    /* DELTA is resolved to an absolute size by the storage driver */
    virCheckFlags(VIR_STORAGE_VOL_RESIZE_DELTA |
                  VIR_STORAGE_VOL_RESIZE_SHRINK, -1);

    if (!(policy = sp_backend_policy(&error)) ||
        (vol->target.encryption && vol->target.encryption->nsecrets > 0 &&
         !sp_backend_secret(vol->target.encryption, &secret, &error)) ||
        !(pool = sp_backend_pool_open(obj, policy, FALSE, &error)) ||
        !sp_pool_resize(pool, vol->name, capacity,
                        !!(flags & VIR_STORAGE_VOL_RESIZE_SHRINK), secret,
                        &error)) {
        sp_backend_report(error);
        return -1;
    }
    return 0;
}
