/* Internal plumbing of src/vtpm: fd ownership and the bounded fd-walk over
 * a state tree that verify, relabel, save and restore share. */
#pragma once

#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-glib-compat.h"
#include "vtpm/sp-vtpm.h"
#include "util/sp-label.h"

typedef struct {
    int parent_fd;       /* directory holding the entry */
    const char *name;    /* entry name in parent_fd */
    const char *relpath; /* "<uuid>/tpm2/x" or "tpm2/x": for messages */
    struct stat st;      /* fstatat(AT_SYMLINK_NOFOLLOW) */
    int depth;           /* 0 = the walk's start */
} SpVtpmEntry;

typedef gboolean (*SpVtpmWalkFunc)(const SpVtpmEntry *e, gpointer data,
                                   GError **error);

/* Pre-order walk of @name in @parent_fd, never following symlinks: each
 * entry is reported, directories are then opened (O_NOFOLLOW, checked to
 * be the inode that was stat'ed) and walked in name order. Bounded by
 * SP_VTPM_MAX_DEPTH and SP_VTPM_MAX_ENTRIES. */
gboolean sp_vtpm_walk(int parent_fd, const char *name, const char *relpath,
                      SpVtpmWalkFunc fn, gpointer data, GError **error);

/* Open a walked file or directory (read-only, O_NOFOLLOW|O_NONBLOCK) and
 * check it is still the inode of @e->st; anything but a regular file or
 * a directory, or a file with more than one link, is refused
 * (SP_ERROR_INVALID). */
int sp_vtpm_entry_open(const SpVtpmEntry *e, GError **error);

/* A non-directory with more than one hard link: its inode is reachable
 * from outside the state, so it is never opened for changes or reads
 * (sp_vtpm_entry_open refuses it). */
gboolean sp_vtpm_entry_shared(const struct stat *st);

/* "symlink", "fifo", ... for messages. */
const char *sp_vtpm_type_name(mode_t mode);

/* Is @name a canonical lowercase uuid (a state directory)? */
gboolean sp_vtpm_is_uuid(const char *name);

/* Modes a state entry may have: directories exactly 0700; regular files
 * 0600 or stricter, swtpm's ".lock" 0640 or stricter. */
gboolean sp_vtpm_mode_ok(const char *name, mode_t mode);
mode_t sp_vtpm_mode_fix(const char *name, mode_t mode);

/* fsync an fd, error naming @what. */
gboolean sp_vtpm_fsync(int fd, const char *what, GError **error);
