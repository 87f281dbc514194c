/* The executor: applies planned operations to a directory pool through its
 * directory fd. Builds under a hidden temporary, records the volume's
 * identity (image/sp-identity.h), publishes atomically, removes what it
 * made on failure. */
#pragma once

#include <glib.h>

#include "conf/sp-policy.h"
#include "conf/sp-volume.h"
#include "image/sp-identity.h"
#include "image/sp-plan.h"
#include "util/sp-progress.h"
#include "util/sp-secret.h"

typedef struct SpPool SpPool;

typedef struct {
    char *name;
    gboolean recorded; /* FALSE: not made by safepool, format unknown */
    SpFormat format;   /* recorded (UNKNOWN when not recorded) */
    gboolean encrypted;
    guint64 capacity;   /* virtual size of the recorded format */
    guint64 allocation; /* st_blocks * 512 */
    char *backing_path;
    SpFormat backing_format;
    guint32 mode;
    uid_t owner;
    gid_t group;
    char *secret_uuid; /* LUKS secret of the recorded definition */
    char *secret_usage;
} SpVolInfo;

void sp_vol_info_free(SpVolInfo *i);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpVolInfo, sp_vol_info_free)

/* Build the pool directory @path (libvirt's pool-build): missing components
 * are made, every component is opened with O_NOFOLLOW (a symlink anywhere
 * is refused, SP_ERROR_INVALID), and mode (-1: kept if it exists, 0711 if
 * made), owner and group (-1: kept) are applied on the directory's fd. A
 * mode writable by others, or by a group other than root's, is refused
 * unless @policy allows it ([pools] allow_shared_write). @nocow sets
 * FS_NOCOW_FL where the filesystem has it. 0 or -1. */
int sp_pool_build(const char *path, gint64 mode, gint64 uid, gint64 gid,
                  gboolean nocow, const SpPolicy *policy, GError **error);

/* Remove the pool directory @path (libvirt's pool-delete): only when it
 * holds no volume; safepool's own lock file goes with it. */
gboolean sp_pool_remove(const char *path, GError **error);

/* Open the pool directory (absolute path, must exist) and sweep stale
 * temporaries (those whose makers are gone). */
SpPool *sp_pool_open(const char *path, const SpPolicy *policy, GError **error);
/* The same; without @sweep the directory is not scanned (the libvirt module
 * sweeps at pool start and refresh, not on every volume operation). */
SpPool *sp_pool_open_full(const char *path, const SpPolicy *policy,
                          gboolean sweep, GError **error);
void sp_pool_free(SpPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpPool, sp_pool_free)
int sp_pool_fd(const SpPool *pool);
const char *sp_pool_path(const SpPool *pool);
const SpPolicy *sp_pool_policy(const SpPool *pool);
/* Remove stale temporaries now; how many in total so far. */
gboolean sp_pool_sweep(SpPool *pool, GError **error);
guint sp_pool_swept(const SpPool *pool);

typedef struct {
    const char *from;            /* clone source volume name, or NULL */
    SpPool *from_pool;           /* the source's pool (NULL: this pool) */
    const SpSecret *secret;      /* LUKS passphrase of the new volume */
    const SpSecret *from_secret; /* of an encrypted source, if any */
    gboolean prealloc_metadata;  /* PREALLOC_METADATA: qcow2 only */
    gboolean reflink;            /* REFLINK: reflink the clone or fail */
    const SpProgress *progress;  /* bytes of a clone copied, or NULL */
} SpCreateArgs;

/* Check (policy, backing store resolved beneath the pool or a backing root
 * with no symlinks, recorded and inspected), plan and execute. Returns the
 * new volume's absolute path. */
char *sp_pool_create(SpPool *pool, const SpVolume *vol,
                     const SpCreateArgs *args, GError **error);

/* The plan vol-create would run (for `plan`), with the public path. */
SpPlan *sp_pool_plan_create(SpPool *pool, const SpVolume *vol,
                            const SpCreateArgs *args, GError **error);

typedef enum {
    SP_RESIZE_SHRINK = 1 << 0,   /* allow a smaller capacity */
    SP_RESIZE_ALLOCATE = 1 << 1, /* allocate the new space (raw only) */
} SpResizeFlags;

gboolean sp_pool_resize(SpPool *pool, const char *name, guint64 capacity,
                        SpResizeFlags flags, const SpSecret *secret,
                        GError **error);
gboolean sp_pool_delete(SpPool *pool, const char *name, GError **error);

/* Wipe volume @name in place, on the same inode (an fd opened earlier
 * sees zeros too): a raw volume's bytes are zeroed (holes punched, the
 * allocation kept); a structured one is rebuilt empty from its recorded
 * definition in a temporary first, then written over the volume, and only
 * while no process has it open. Encrypted volumes and volumes another
 * volume is backed by are refused. */
gboolean sp_pool_wipe(SpPool *pool, const char *name, GError **error);

/* Record an identity for file @name of the pool that has none (copied in
 * by hand), after inspecting it as @format: a standalone image (no backing
 * file) within the policy. The CLI's vol-adopt. */
gboolean sp_pool_adopt(SpPool *pool, const char *name, SpFormat format,
                       GError **error);

/* Volumes (hidden entries skipped), sorted by name; reads each volume's
 * recorded identity only (nothing probed, nothing parsed). */
GPtrArray *sp_pool_list(SpPool *pool, GError **error);
SpVolInfo *sp_pool_info(SpPool *pool, const char *name, GError **error);

/* The recorded definition of volume @name (for dumpxml / resize / clone). */
SpVolume *sp_pool_lookup(SpPool *pool, const char *name, GError **error);
