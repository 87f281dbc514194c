/* The executor: applies planned operations to a directory pool through its
 * directory fd. Builds under a hidden temporary, publishes atomically,
 * records the format in an xattr, removes what it made on failure. */
#pragma once

#include <glib.h>

#include "conf/sp-policy.h"
#include "conf/sp-volume.h"
#include "image/sp-plan.h"
#include "util/sp-secret.h"

/* Recorded on every volume at creation; the only source of its format. */
#define SP_XATTR_FORMAT "user.safepool.format"
/* "luks" when the volume is LUKS-encrypted (raw+luks is stored as luks). */
#define SP_XATTR_ENCRYPTION "user.safepool.encryption"
/* backing path and format as created (for dumpxml and delete checks) */
#define SP_XATTR_BACKING "user.safepool.backing"
#define SP_XATTR_BACKING_FORMAT "user.safepool.backing-format"
/* The volume XML as created (compat, features, cipher, secret, label...):
 * vol-dumpxml starts from it; the xattrs above and the file itself
 * (size, mode, owner) override what it says. */
#define SP_XATTR_DEFINITION "user.safepool.xml"

typedef struct SpPool SpPool;

typedef struct {
    char *name;
    SpFormat format;         /* recorded */
    gboolean encrypted;
    guint64 capacity;        /* virtual size from the header of the recorded format */
    guint64 allocation;      /* st_blocks * 512 */
    char *backing_path;
    SpFormat backing_format;
    guint32 mode;
    uid_t owner;
    gid_t group;
    char *secret_uuid;       /* LUKS secret of the recorded definition */
    char *secret_usage;
} SpVolInfo;

void sp_vol_info_free(SpVolInfo *i);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpVolInfo, sp_vol_info_free)

/* Open the pool directory (absolute path, must exist) and sweep stale
 * temporaries (those whose byte-0 lock nobody holds). */
/* Build the pool directory @path (libvirt's pool-build): missing components
 * are made, every component is opened with O_NOFOLLOW (a symlink anywhere
 * is refused, SP_ERROR_INVALID), and mode (-1: kept if it exists, 0711 if
 * made), owner and group (-1: kept) are applied on the directory's fd.
 * @nocow sets FS_NOCOW_FL where the filesystem has it. 0 or -1. */
int sp_pool_build(const char *path, gint64 mode, gint64 uid, gint64 gid,
                  gboolean nocow, GError **error);

SpPool *sp_pool_open(const char *path, const SpPolicy *policy, GError **error);
/* The same; without @sweep the directory is not scanned (the libvirt module
 * sweeps at pool start only, not on every volume operation). */
SpPool *sp_pool_open_full(const char *path, const SpPolicy *policy,
                          gboolean sweep, GError **error);
void sp_pool_free(SpPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpPool, sp_pool_free)
int sp_pool_fd(const SpPool *pool);
const char *sp_pool_path(const SpPool *pool);
/* How many temporaries the open swept (tests). */
guint sp_pool_swept(const SpPool *pool);

typedef struct {
    const char *from;          /* clone source volume name, or NULL */
    const SpSecret *secret;    /* LUKS passphrase of the new volume */
    const SpSecret *from_secret; /* of an encrypted source, if any */
    gboolean prealloc_metadata;
} SpCreateArgs;

/* Check (policy, backing store resolved beneath the pool or a backing root
 * with no symlinks, backing inspected), plan and execute. Returns the new
 * volume's absolute path. */
char *sp_pool_create(SpPool *pool, const SpVolume *vol,
                     const SpCreateArgs *args, GError **error);

/* Build @vol afresh (as sp_pool_create) and exchange it with the existing
 * volume of the same name, under that name's lock; the old volume stays
 * untouched until the new one is complete (wipe). */
gboolean sp_pool_recreate(SpPool *pool, const SpVolume *vol, GError **error);

/* The plan vol-create would run (for `plan`), with the public path. */
SpPlan *sp_pool_plan_create(SpPool *pool, const SpVolume *vol,
                            const SpCreateArgs *args, GError **error);

gboolean sp_pool_resize(SpPool *pool, const char *name, guint64 capacity,
                        gboolean shrink, const SpSecret *secret,
                        GError **error);
gboolean sp_pool_delete(SpPool *pool, const char *name, GError **error);

/* Volumes (hidden entries skipped), sorted by name. */
GPtrArray *sp_pool_list(SpPool *pool, GError **error);
SpVolInfo *sp_pool_info(SpPool *pool, const char *name, GError **error);

/* The recorded definition of volume @name (for dumpxml / resize / clone). */
SpVolume *sp_pool_lookup(SpPool *pool, const char *name, GError **error);
