/* RBD volumes: the operations of a dir pool done on Ceph RBD images
 * through librados/librbd, with the identity in image metadata, a hidden
 * temporary published by rbd_rename, and a RADOS lock per name so that
 * several hosts can share one pool. No libvirt, no qemu-img. */
#pragma once

#include <glib.h>

#include "conf/sp-policy.h"
#include "conf/sp-volume.h"
#include "inspect/sp-inspect.h"
#include "util/sp-secret.h"

/* Metadata keys safepool records on an image (never chosen by users:
 * librbd reads "conf_*" keys as its own settings). */
#define SP_RBD_KEY_FORMAT "safepool.format"
#define SP_RBD_KEY_XML "safepool.xml"
/* On a hidden temporary that holds a volume's old content while an
 * upload replaces it: the public name, so a crash can be undone. */
#define SP_RBD_KEY_TMP_OF "safepool.tmp-of"
/* Prefix of every hidden temporary image; public names never start with
 * '.'. */
#define SP_RBD_TMP_PREFIX ".safepool-tmp-"
/* Prefix of the snapshots safepool owns (one per clone). */
#define SP_RBD_CLONE_SNAP_PREFIX "safepool-clone-"

/* Where a pool is: libvirt's <source> of an rbd pool. */
typedef struct {
    char **monitors; /* "host", "host:port" or "[v6addr]:port" */
    char *user;      /* cephx id without "client." */
    char *pool;      /* RADOS pool */
    char *ns;        /* RBD namespace, NULL: the default one */
} SpRbdSource;

SpRbdSource *sp_rbd_source_new(void);
void sp_rbd_source_free(SpRbdSource *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpRbdSource, sp_rbd_source_free)
/* Split libvirt's <source><name> "POOL" or "POOL/NAMESPACE". */
gboolean sp_rbd_source_set_name(SpRbdSource *s, const char *name,
                                GError **error);
/* "POOL" or "POOL/NAMESPACE". */
char *sp_rbd_source_name(const SpRbdSource *s);
/* Syntax of every field, and the policy's namespace confinement. */
gboolean sp_rbd_source_check(const SpRbdSource *s, const SpPolicy *policy,
                             GError **error);

/* An image name: a volume name (sp_volume_check_name) without RBD's own
 * separators '@' (snapshot) and '\\' (qemu's rbd: escape). */
gboolean sp_rbd_check_name(const char *name, GError **error);

typedef struct SpRbdPool SpRbdPool;

/* Connect (no ceph.conf, no keyring file: monitors, user and @key only,
 * every wait bounded by the policy's timeout) and open the pool's
 * namespace. An unreachable cluster and a wrong key both end in a
 * time-out, and the error says so. */
SpRbdPool *sp_rbd_pool_open(const SpRbdSource *src, const SpSecret *key,
                            const SpPolicy *policy, GError **error);
void sp_rbd_pool_free(SpRbdPool *pool);
/* From now on, pools opened with the same monitors, user, key, pool,
 * namespace and timeout share one connection, closed after @idle_sec
 * unused (or at once after a time-out). For a daemon, where connecting
 * for every callback would dominate short operations; the CLI makes one
 * connection per command. */
void sp_rbd_conn_cache_enable(guint idle_sec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpRbdPool, sp_rbd_pool_free)
const SpPolicy *sp_rbd_pool_policy(const SpRbdPool *pool);
/* "POOL" or "POOL/NAMESPACE". */
const char *sp_rbd_pool_name(const SpRbdPool *pool);

/* Remove hidden temporaries whose makers are gone (their name's lock can
 * be taken); an old content an upload left under a hidden name while the
 * public name is free is put back. How many were handled in *n. */
gboolean sp_rbd_pool_sweep(SpRbdPool *pool, guint *n, GError **error);

/* Cluster capacity and available bytes, bytes used by the pool. */
gboolean sp_rbd_pool_stat(SpRbdPool *pool, guint64 *capacity,
                          guint64 *available, guint64 *allocation,
                          GError **error);

typedef struct {
    char *name;
    gboolean recorded; /* FALSE: not made by safepool, format unknown */
    SpFormat format;   /* recorded (UNKNOWN when not recorded) */
    guint64 capacity;
    guint64 allocation; /* from rbd_diff_iterate2, never the capacity */
    guint64 features;
    char *parent; /* "POOL[/NS]/IMAGE@SNAP" of a clone, else NULL */
} SpRbdVolInfo;

void sp_rbd_vol_info_free(SpRbdVolInfo *i);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpRbdVolInfo, sp_rbd_vol_info_free)

/* The public images (hidden and invalid names skipped), sorted by name,
 * read several at a time; one that vanished meanwhile is left out. */
GPtrArray *sp_rbd_list(SpRbdPool *pool, GError **error);
SpRbdVolInfo *sp_rbd_info(SpRbdPool *pool, const char *name, GError **error);
/* The recorded definition of @name with its current size (dumpxml). */
SpVolume *sp_rbd_lookup(SpRbdPool *pool, const char *name, GError **error);

typedef struct {
    const char *from; /* clone source (an image of the same pool) */
    guint64 features; /* 0: the policy's default set */
    gboolean flatten; /* flatten the clone (also by policy) */
} SpRbdCreateArgs;

/* Create (or clone) a raw image under a hidden name, record its identity,
 * publish it with rbd_rename (EXISTS if the name is taken). */
gboolean sp_rbd_create(SpRbdPool *pool, const SpVolume *vol,
                       const SpRbdCreateArgs *args, GError **error);

typedef enum {
    SP_RBD_DELETE_FLATTEN_CHILDREN = 1 << 0, /* flatten clones first */
    SP_RBD_DELETE_SNAPSHOTS = 1 << 1, /* also remove snapshots not ours */
} SpRbdDeleteFlags;

gboolean sp_rbd_delete(SpRbdPool *pool, const char *name,
                       SpRbdDeleteFlags flags, GError **error);
gboolean sp_rbd_resize(SpRbdPool *pool, const char *name, guint64 capacity,
                       gboolean shrink, GError **error);
/* Zero the whole image in place (refused while it is open anywhere). */
gboolean sp_rbd_wipe(SpRbdPool *pool, const char *name, GError **error);
/* Record @format for an image safepool did not make, after inspecting it
 * as that format (raw only: RBD images are raw). */
gboolean sp_rbd_adopt(SpRbdPool *pool, const char *name, SpFormat format,
                      GError **error);

/* -- streams (sp-rbd-stream.c) -------------------------------------------- */

typedef struct SpRbdUpload SpRbdUpload;

/* Lock volume @name and make the hidden image its new content goes to.
 * Refused while the volume is open anywhere or has clones. */
SpRbdUpload *sp_rbd_upload_begin(SpRbdPool *pool, const char *name,
                                 GError **error);
/* Append data (all-zero blocks are skipped: the image stays sparse). */
gboolean sp_rbd_upload_write(SpRbdUpload *u, const void *buf, gsize len,
                             GError **error);
/* Append a hole of @len bytes. */
gboolean sp_rbd_upload_hole(SpRbdUpload *u, guint64 len, GError **error);
guint64 sp_rbd_upload_offset(const SpRbdUpload *u);
/* Inspect the new content as the volume's recorded format and replace
 * the volume with it; on failure the volume is unchanged. */
gboolean sp_rbd_upload_commit(SpRbdUpload *u, GError **error);
/* Removes an uncommitted temporary, releases the lock. */
void sp_rbd_upload_free(SpRbdUpload *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpRbdUpload, sp_rbd_upload_free)

typedef struct SpRbdReader SpRbdReader;

/* Open @name for reading from @offset, @length bytes (0: to the end). */
SpRbdReader *sp_rbd_reader_open(SpRbdPool *pool, const char *name,
                                guint64 offset, guint64 length, GError **error);
/* Read at the current position; 0 at the end. */
gssize sp_rbd_reader_read(SpRbdReader *r, void *buf, gsize len, GError **error);
/* Whether the current position is in data, and how long that data or
 * hole runs (0 and FALSE at the end). */
gboolean sp_rbd_reader_in_data(SpRbdReader *r, gboolean *in_data,
                               guint64 *length, GError **error);
/* Skip @len bytes (a hole the stream sent instead). */
gboolean sp_rbd_reader_skip(SpRbdReader *r, guint64 len, GError **error);
guint64 sp_rbd_reader_size(const SpRbdReader *r);
void sp_rbd_reader_free(SpRbdReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpRbdReader, sp_rbd_reader_free)

/* Create RBD namespace @ns in the pool's RADOS pool (pool-build of a
 * POOL/NAMESPACE pool; @pool is opened on POOL). Existing is fine. */
gboolean sp_rbd_namespace_create(SpRbdPool *pool, const char *ns,
                                 GError **error);
