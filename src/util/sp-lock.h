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
void sp_lock_release(SpLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpLock, sp_lock_release)

/* Lock byte 0 of an open file (temporaries: a live creator holds it, the
 * sweeper only removes what it can lock). Returns FALSE + LOCKED if busy. */
gboolean sp_lock_fd_byte0(int fd, gboolean exclusive, GError **error);
