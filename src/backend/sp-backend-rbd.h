/* The rbd module's declarations (sp-backend-rbd*.c). */
#pragma once

#include "backend/sp-backend.h"
#include "rbd/sp-rbd.h"

extern virStorageBackend sp_backend_rbd;

/* Open the rbd pool of @obj: its <source> checked by the policy, the
 * cephx key from libvirt's secret driver; stale temporaries are swept
 * with @sweep (pool start, refresh). */
gboolean sp_rbd_backend_open(virStoragePoolObj *obj, SpPolicy **policy,
                             SpRbdPool **pool, gboolean sweep, GError **error);

static const SpFlagName sp_rbd_create_flags[] G_GNUC_UNUSED = {
    {VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA,
     "VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA"},
    {VIR_STORAGE_VOL_CREATE_REFLINK, "VIR_STORAGE_VOL_CREATE_REFLINK"},
    {VIR_STORAGE_VOL_CREATE_VALIDATE, "VIR_STORAGE_VOL_CREATE_VALIDATE"},
    {0, NULL},
};

static const SpFlagName sp_rbd_resize_flags[] G_GNUC_UNUSED = {
    {VIR_STORAGE_VOL_RESIZE_ALLOCATE, "VIR_STORAGE_VOL_RESIZE_ALLOCATE"},
    {VIR_STORAGE_VOL_RESIZE_DELTA, "VIR_STORAGE_VOL_RESIZE_DELTA"},
    {VIR_STORAGE_VOL_RESIZE_SHRINK, "VIR_STORAGE_VOL_RESIZE_SHRINK"},
    {0, NULL},
};

static const SpFlagName sp_rbd_delete_flags[] G_GNUC_UNUSED = {
    {VIR_STORAGE_VOL_DELETE_ZEROED, "VIR_STORAGE_VOL_DELETE_ZEROED"},
    {VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS,
     "VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS"},
    {0, NULL},
};

/* Streams (sp-backend-rbd-stream.c). */
int sp_rbd_upload_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                      virStreamPtr stream, unsigned long long offset,
                      unsigned long long len, unsigned int flags);
int sp_rbd_download_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                        virStreamPtr stream, unsigned long long offset,
                        unsigned long long len, unsigned int flags);
