/* A volume's recorded identity, defined once: every user.safepool.*
 * extended attribute, the SELinux label, the owner and the mode. It is
 * written in one place and copied whole by every path that replaces or
 * rebuilds a volume's file, so no path can drop part of it. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "conf/sp-volume.h"

#define SP_XATTR_PREFIX "user.safepool."

/* The keys safepool records (the attribute is SP_XATTR_PREFIX + key). */
/* The volume's format; the only source of its format. */
#define SP_ID_FORMAT "format"
/* "luks" when the volume is LUKS-encrypted (raw+luks is recorded as raw). */
#define SP_ID_ENCRYPTION "encryption"
/* Backing path (normalised) and format, as created. */
#define SP_ID_BACKING "backing"
#define SP_ID_BACKING_FORMAT "backing-format"
/* The volume XML as created (compat, features, cipher, secret, label...):
 * vol-dumpxml starts from it; the keys above and the file itself (size,
 * mode, owner) override what it says. */
#define SP_ID_DEFINITION "xml"

/* Every key above, for tests and documentation. */
extern const char *const sp_identity_keys[];

typedef struct {
    GHashTable *attrs; /* key (without prefix) -> GBytes */
    char *label;       /* security.selinux, NULL when none */
    guint32 mode;
    uid_t uid;
    gid_t gid;
} SpIdentity;

typedef enum {
    SP_IDENTITY_ALL = 0,
    /* Skip the definition and the label (listing, refresh): fewer reads
     * for what a listing does not show. */
    SP_IDENTITY_SUMMARY = 1 << 0,
} SpIdentityFlags;

SpIdentity *sp_identity_new(void);
void sp_identity_free(SpIdentity *id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpIdentity, sp_identity_free)

/* The identity of the open file @fd: one flistxattr, then each recorded
 * attribute it lists, the label (unless SUMMARY) and fstat. */
SpIdentity *sp_identity_read(int fd, SpIdentityFlags flags, GError **error);

/* Make @fd carry exactly @id: recorded attributes @id lacks are removed,
 * the others set, then the label, owner and mode. ENOSPC/E2BIG name the
 * filesystem's limit. @what names the volume in errors. */
gboolean sp_identity_apply(const SpIdentity *id, int fd, const char *what,
                           GError **error);

/* The identity safepool records for a new volume @vol published at
 * @path (mode @default_mode when the volume names none). */
SpIdentity *sp_identity_for_volume(const SpVolume *vol, const char *path,
                                   guint32 default_mode, GError **error);

/* A recorded value as a string (NULL when absent). */
const char *sp_identity_get(const SpIdentity *id, const char *key);
/* Set (or with NULL remove) a recorded value. */
void sp_identity_set(SpIdentity *id, const char *key, const char *value);
/* Whether any user.safepool.* attribute is recorded. */
gboolean sp_identity_recorded(const SpIdentity *id);
