/* Internals shared by the files of src/rbd/: the pool handle, error
 * mapping of librados/librbd return codes, image handles, name locks. */
#pragma once

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "rbd/sp-rbd.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"

/* A connection (cluster + the pool namespace's ioctx), shared by the
 * operations of a daemon through sp_rbd_conn_cache_enable(). */
typedef struct SpRbdConn SpRbdConn;

struct SpRbdPool {
    rados_t cluster;
    rados_ioctx_t io;
    SpRbdConn *conn;        /* the shared connection, or NULL: own one */
    const SpPolicy *policy; /* borrowed: outlives the pool */
    char *name;             /* "POOL" or "POOL/NAMESPACE" */
    char *rados_pool;       /* POOL */
    char *ns;               /* NAMESPACE or NULL */
    char *monitors;         /* mon_host as given, for messages */
    char *user;
};

/* Set @error from librados/librbd's @rc (a negative errno) as
 * "<what>: <why>"; a time-out says what it may mean. Returns FALSE. */
gboolean sp_rbd_fail(SpRbdPool *pool, GError **error, int rc, const char *fmt,
                     ...) G_GNUC_PRINTF(4, 5);

/* rbd_image_t that closes itself: g_auto(SpRbdImage) img = NULL; */
typedef rbd_image_t SpRbdImage;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(SpRbdImage, rbd_close, NULL)

/* Open @name read-only (no watch is registered) or read-write. */
gboolean sp_rbd_open(SpRbdPool *pool, const char *name, gboolean rw,
                     SpRbdImage *img, GError **error);

/* librbd calls progress callbacks unconditionally (a NULL one crashes a
 * shrink): this one does nothing. */
int sp_rbd_no_progress(uint64_t offset, uint64_t total, void *data);

/* The 32 hex digits naming @name's lock (half a SHA-256). */
char *sp_rbd_name_hash(const char *name);

/* A fresh hidden name SP_RBD_TMP_PREFIX "<tag>-<hash of @public>-<random>"
 * for a temporary that belongs to an operation on @public: that
 * operation holds @public's lock for the temporary's whole life, so the
 * sweeper knows the maker is alive while the lock is taken. */
char *sp_rbd_tmp_name(const char *tag, const char *public);

/* The lock hash a temporary's name carries, or NULL if it has none. */
char *sp_rbd_tmp_hash(const char *tmp);

/* A recorded metadata value, NULL (no error) when absent. */
char *sp_rbd_meta_get(SpRbdPool *pool, SpRbdImage img, const char *name,
                      const char *key, GError **error);

/* Set the metadata keys @kv (KEY, VALUE, ..., NULL) of image @image;
 * @shown names the volume in messages. @fresh: this operation has just
 * made @image under its name's lock (nobody else has it open, it is
 * neither mirrored nor journaled): every key in one cls_rbd call, one
 * OSD transaction. Otherwise through librbd with all of its checks, a
 * key at a time. */
gboolean sp_rbd_meta_set(SpRbdPool *pool, const char *image, const char *shown,
                         gboolean fresh, const char *const *kv, GError **error);

/* Refuse (IN_USE, naming the client addresses) while @img has watchers:
 * it is open in a qemu or another client on some host. */
gboolean sp_rbd_check_unwatched(SpRbdPool *pool, SpRbdImage img,
                                const char *name, const char *doing,
                                GError **error);

/* Every image name of the pool's namespace (hidden ones included). */
GPtrArray *sp_rbd_image_names(SpRbdPool *pool, GError **error);

/* The clones of @img as "POOL[/NS]/IMAGE" strings (trash excluded). */
GPtrArray *sp_rbd_children(SpRbdPool *pool, SpRbdImage img, const char *name,
                           GError **error);

/* Remove safepool's snapshot @snap of image @name in this pool if no
 * clone uses it any more (absent is fine). */
gboolean sp_rbd_release_clone_snap(SpRbdPool *pool, const char *name,
                                   const char *snap, GError **error);

/* Remove the image @name (its safepool snapshots first); when it was a
 * clone of an image of this pool, the snapshot it was made from goes too
 * once no clone uses it. */
gboolean sp_rbd_remove_image(SpRbdPool *pool, const char *name,
                             gboolean other_snaps, GError **error);

/* -- locks (sp-rbd-lock.c) -------------------------------------------------
 * One exclusive RADOS lock per image name, on one of 256 lock objects of
 * the namespace, with a per-operation cookie and a lease renewed in the
 * background; a dead host's lock ends with its lease. */
typedef struct SpRbdLock SpRbdLock;

/* Take the lock of @name, waiting up to @wait_ms while another holder has
 * it (0: try once). Busy -> SP_ERROR_LOCKED naming @name. */
SpRbdLock *sp_rbd_lock(SpRbdPool *pool, const char *name, guint wait_ms,
                       GError **error);
/* The same by the lock's hash (the sweeper: a temporary's name carries
 * the hash of the name it belongs to). */
SpRbdLock *sp_rbd_lock_hash(SpRbdPool *pool, const char *hash,
                            const char *shown, guint wait_ms, GError **error);
/* The same for two names, taken in one order (no deadlock). */
gboolean sp_rbd_lock_pair(SpRbdPool *pool, const char *a, const char *b,
                          guint wait_ms, SpRbdLock **la, SpRbdLock **lb,
                          GError **error);
/* Renew now; FALSE (SP_ERROR_LOCKED) if the lease was lost meanwhile: a
 * step that publishes or removes must not run then. */
gboolean sp_rbd_lock_check(SpRbdLock *lock, GError **error);
void sp_rbd_lock_release(SpRbdLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpRbdLock, sp_rbd_lock_release)
/* How long an operation waits for a busy name (policy lock_wait). */
guint sp_rbd_lock_wait_ms(const SpRbdPool *pool);

/* The one way an image changes its name (publish, hide, put back): with
 * @lock given, its lease is renewed first and nothing is renamed if it
 * was lost. librbd refuses an existing @to: SP_ERROR_EXISTS "volume
 * '@vol' exists already"; any other failure is "volume '@vol': @doing:
 * why". With @error NULL a failure is logged as a warning that names
 * where the image was left. */
gboolean sp_rbd_rename(SpRbdPool *pool, SpRbdLock *lock, const char *from,
                       const char *to, const char *vol, const char *doing,
                       GError **error);
