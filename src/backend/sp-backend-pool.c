/* Pool callbacks: a dir pool is a directory; listing reports the format
 * recorded at creation, never a probed one. */
#include "backend/sp-backend.h"

#include <sys/statvfs.h>

#include "virerror.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.pool");

int
sp_backend_check_pool(virStoragePoolObj *obj, bool *active)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);

    *active = g_file_test(def->target.path, G_FILE_TEST_IS_DIR);
    return 0;
}

/* Opening the pool sweeps temporaries left by a crash (their makers'
 * locks are gone). */
int
sp_backend_start_pool(virStoragePoolObj *obj)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;

    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, TRUE, &error))) {
        sp_backend_report(error);
        return -1;
    }
    if (sp_pool_swept(pool) > 0)
        VIR_INFO("safepool: pool '%s': swept %u stale temporaries",
                 virStoragePoolObjGetDef(obj)->name, sp_pool_swept(pool));
    return 0;
}

/* Not the stock virStorageBackendBuildLocal: its virDirCreate chowns and
 * chmods the path with stat/chown/chmod, following a symlink planted at
 * the pool's target (pool-build could hand /etc to the pool's owner).
 * sp_pool_build makes and opens every component with O_NOFOLLOW and sets
 * mode and owner on the directory's fd. */
static const SpFlagName sp_build_flags[] = {
    {VIR_STORAGE_POOL_BUILD_REPAIR, "VIR_STORAGE_POOL_BUILD_REPAIR"},
    {VIR_STORAGE_POOL_BUILD_RESIZE, "VIR_STORAGE_POOL_BUILD_RESIZE"},
    {VIR_STORAGE_POOL_BUILD_NO_OVERWRITE,
     "VIR_STORAGE_POOL_BUILD_NO_OVERWRITE"},
    {VIR_STORAGE_POOL_BUILD_OVERWRITE, "VIR_STORAGE_POOL_BUILD_OVERWRITE"},
    {0, NULL},
};

static const SpFlagName sp_pool_delete_flags[] = {
    {VIR_STORAGE_POOL_DELETE_ZEROED, "VIR_STORAGE_POOL_DELETE_ZEROED"},
    {0, NULL},
};

int
sp_backend_build_pool(virStoragePoolObj *obj, unsigned int flags)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    gint64 mode = def->target.perms.mode == (mode_t)-1
                      ? -1
                      : (gint64)def->target.perms.mode;
    gint64 uid =
        def->target.perms.uid == (uid_t)-1 ? -1 : (gint64)def->target.perms.uid;
    gint64 gid =
        def->target.perms.gid == (gid_t)-1 ? -1 : (gint64)def->target.perms.gid;

    /* For a directory, building over an existing one changes nothing in
     * it: libvirt's own dir backend takes (and ignores) both. */
    if (!sp_backend_check_flags(flags,
                                VIR_STORAGE_POOL_BUILD_NO_OVERWRITE |
                                    VIR_STORAGE_POOL_BUILD_OVERWRITE,
                                sp_build_flags, def->name))
        return -1;
    if (!(policy = sp_backend_policy(&error)) ||
        sp_pool_build(def->target.path, mode, uid, gid,
                      def->features.cow == VIR_TRISTATE_BOOL_NO, policy,
                      &error) < 0) {
        sp_backend_report(error);
        return -1;
    }
    return 0;
}

/* The (empty) directory goes, with safepool's lock file in it. */
int
sp_backend_delete_pool(virStoragePoolObj *obj, unsigned int flags)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;

    if (!sp_backend_check_flags(flags, 0, sp_pool_delete_flags, def->name))
        return -1;
    if (!sp_pool_remove(def->target.path, &error)) {
        sp_backend_report(error);
        return -1;
    }
    return 0;
}

int
sp_backend_refresh_pool(virStoragePoolObj *obj)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(GPtrArray) vols = NULL;
    struct statvfs sb;
    guint i;

    /* Swept here too: a pool still active across a daemon restart is
     * refreshed, never started again. */
    if (!(policy = sp_backend_policy(&error)) ||
        !(pool = sp_backend_pool_open(obj, policy, TRUE, &error)) ||
        !(vols = sp_pool_list(pool, &error))) {
        sp_backend_report(error);
        return -1;
    }
    for (i = 0; i < vols->len; i++) {
        const SpVolInfo *info = g_ptr_array_index(vols, i);
        virStorageVolDef *vol = g_new0(virStorageVolDef, 1);

        vol->name = g_strdup(info->name);
        sp_backend_def_fill(vol, info, def->target.path);
        if (virStoragePoolObjAddVol(obj, vol) < 0) {
            virStorageVolDefFree(vol);
            return -1;
        }
    }
    if (fstatvfs(sp_pool_fd(pool), &sb) < 0) {
        virReportSystemError(errno, _("cannot statvfs pool '%s'"),
                             def->target.path);
        return -1;
    }
    def->capacity = (unsigned long long)sb.f_frsize * sb.f_blocks;
    def->available = (unsigned long long)sb.f_frsize * sb.f_bavail;
    def->allocation =
        def->capacity - (unsigned long long)sb.f_frsize * sb.f_bfree;
    return 0;
}
