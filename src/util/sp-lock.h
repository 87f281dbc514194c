/* Open-file-description locks (F_OFD_SETLK) per volume name: one lock file
 * per pool, one byte range per name, so the CLI and the daemon agree. */
#pragma once

#include <glib.h>

#include "util/sp-glib-compat.h"

#define SP_LOCK_FILE ".safepool.lock"

typedef struct SpLock SpLock;

/* Take a non-blocking lock on @name in the pool @dirfd (creates the lock
 * file 0600 if missing). Busy -> SP_ERROR_LOCKED naming the volume. */
SpLock *sp_lock_acquire(int dirfd, const char *name, gboolean exclusive,
                        GError **error);
/* The same, waiting up to @timeout_ms while the lock is busy. */
SpLock *sp_lock_acquire_wait(int dirfd, const char *name, gboolean exclusive,
                             guint timeout_ms, GError **error);
void sp_lock_release(SpLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpLock, sp_lock_release)

/* Remove the lock file of @dirfd while no lock in it is held (the whole
 * file is locked exclusively while it is unlinked), so an empty directory
 * can be removed. Absent is fine; busy -> SP_ERROR_LOCKED. */
gboolean sp_lock_remove_file(int dirfd, GError **error);
