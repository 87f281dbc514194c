/* The one lifecycle of a new pool entry (a volume file, a vTPM state
 * directory): built under a hidden name, then published, exchanged in, or
 * discarded; the sweeper removes only what no live operation holds. */
#pragma once

#include <glib.h>

#include "util/sp-glib-compat.h"
#include "util/sp-lock.h"

/* An entry under construction in directory @dirfd. From before its hidden
 * name exists until it is published or gone, the byte of that name in the
 * directory's lock file (SP_LOCK_FILE) is held: a sweeper that can take
 * the byte knows the entry's maker is dead. */
typedef struct {
    int dirfd;  /* borrowed: the directory holding the entry */
    char *name; /* hidden name; NULL once published or removed */
    int fd;     /* the entry: O_RDWR file, or O_DIRECTORY directory */
    gboolean is_dir;
    SpLock *lock; /* NULL only for SP_FS_TMP_UNLOCKED */
} SpFsTmp;

#define SP_FS_TMP_INIT                                                         \
    {                                                                          \
        .dirfd = -1, .fd = -1                                                  \
    }

typedef enum {
    SP_FS_TMP_NONE = 0,
    /* No name lock: for entries inside a tree that is itself being
     * removed (nothing sweeps there). */
    SP_FS_TMP_UNLOCKED = 1 << 0,
} SpFsTmpFlags;

/* A new empty file (0600) under a fresh hidden name "<prefix><tag>-XXXXXX"
 * in @dirfd. @t must be cleared (SP_FS_TMP_INIT). */
gboolean sp_fs_tmp_file(SpFsTmp *t, int dirfd, const char *tag, GError **error);

/* A new empty directory (0700), likewise. */
gboolean sp_fs_tmp_dir(SpFsTmp *t, int dirfd, const char *tag, GError **error);

/* Take the existing entry @name of @from_dirfd away, in one rename, to a
 * fresh hidden name in @dirfd (deleting a tree starts so: a crash then
 * leaves only a temporary for the sweeper). NOT_FOUND if @name is gone. */
gboolean sp_fs_tmp_take(SpFsTmp *t, int from_dirfd, const char *name, int dirfd,
                        const char *tag, SpFsTmpFlags flags, GError **error);

/* Whether the hidden name still holds the inode @t->fd refers to (a
 * program that writes the temporary by path, like qemu-img, may have
 * removed or replaced it). The error names @what, and @during (such as
 * "qemu-img ran") when non-NULL. */
gboolean sp_fs_tmp_still_ours(const SpFsTmp *t, const char *what,
                              const char *during, GError **error);

/* Make the entry public as @name (RENAME_NOREPLACE; EXISTS if taken). */
gboolean sp_fs_tmp_publish(SpFsTmp *t, const char *name, GError **error);

/* Exchange the entry with the existing @name (RENAME_EXCHANGE): the new
 * content is public at once, and @t's hidden name now holds the old entry,
 * which discard or clear removes. @t->fd still refers to the new one. */
gboolean sp_fs_tmp_exchange(SpFsTmp *t, const char *name, GError **error);

/* Leave the entry under its hidden name (for a later pass of whoever
 * removes its directory, or for the sweeper) and release it. */
void sp_fs_tmp_keep(SpFsTmp *t);

/* Remove the entry (a file, or a whole tree) if it still has its hidden
 * name, close, unlock. Errors are reported; @t is cleared either way. */
gboolean sp_fs_tmp_discard(SpFsTmp *t, GError **error);

/* sp_fs_tmp_discard without an error (warning logged): the cleanup. */
void sp_fs_tmp_clear(SpFsTmp *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpFsTmp, sp_fs_tmp_clear)

/* Remove the hidden temporaries of @dirfd whose makers are gone (their
 * name's lock byte is free); the names removed are added to @removed
 * (may be NULL). @what names the directory in warnings. */
gboolean sp_fs_sweep(int dirfd, const char *what, GPtrArray *removed,
                     GError **error);

/* The names sp_fs_sweep would remove now, removing nothing (and making no
 * lock file): for reports. */
GPtrArray *sp_fs_stale(int dirfd, GError **error);
