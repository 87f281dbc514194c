/* A volume's recorded identity (see sp-identity.h): read in one pass of
 * the file's extended attributes, written and copied whole. */
#include "image/sp-identity.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-label.h"

#define SP_XATTR_LABEL "security.selinux"
#define SP_EXT4_MAGIC 0xEF53
/* Room for the usual attribute names and values without a size query. */
#define SP_ID_BUF 4096

const char *const sp_identity_keys[] = {
    SP_ID_FORMAT,         SP_ID_ENCRYPTION, SP_ID_BACKING,
    SP_ID_BACKING_FORMAT, SP_ID_DEFINITION, NULL,
};

SpIdentity *
sp_identity_new(void)
{
    SpIdentity *id = g_new0(SpIdentity, 1);

    id->attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)g_bytes_unref);
    id->mode = 0600;
    id->uid = (uid_t)-1;
    id->gid = (gid_t)-1;
    return id;
}

void
sp_identity_free(SpIdentity *id)
{
    if (!id)
        return;
    g_hash_table_unref(id->attrs);
    g_free(id->label);
    g_free(id);
}

const char *
sp_identity_get(const SpIdentity *id, const char *key)
{
    GBytes *b = g_hash_table_lookup(id->attrs, key);

    /* Stored with a NUL past the value (see sp_identity_read). */
    return b ? g_bytes_get_data(b, NULL) : NULL;
}

void
sp_identity_set(SpIdentity *id, const char *key, const char *value)
{
    if (!value) {
        g_hash_table_remove(id->attrs, key);
        return;
    }
    g_hash_table_replace(id->attrs, g_strdup(key),
                         g_bytes_new(value, strlen(value) + 1));
}

gboolean
sp_identity_recorded(const SpIdentity *id)
{
    return g_hash_table_size(id->attrs) > 0;
}

/* flistxattr into a buffer that fits (stack first, then the size asked). */
static char *
list_names(int fd, gssize *len, GError **error)
{
    char stackbuf[SP_ID_BUF];
    gssize n = flistxattr(fd, stackbuf, sizeof(stackbuf));

    for (int tries = 0; n < 0 && errno == ERANGE && tries < 4; tries++) {
        g_autofree char *buf = NULL;
        gssize want = flistxattr(fd, NULL, 0);

        if (want < 0)
            break;
        buf = g_malloc((gsize)want + 1);
        n = flistxattr(fd, buf, (gsize)want);
        if (n >= 0) {
            *len = n;
            return g_steal_pointer(&buf);
        }
    }
    if (n < 0) {
        if (errno == ENOTSUP || errno == EOPNOTSUPP) {
            *len = 0;
            return g_strdup("");
        }
        sp_error_set_errno(error, errno, _("list extended attributes"));
        return NULL;
    }
    *len = n;
    return g_memdup2(stackbuf, (gsize)n + 1);
}

/* One attribute's value, with a NUL appended (values are text). */
static GBytes *
get_value(int fd, const char *name, GError **error)
{
    char stackbuf[SP_ID_BUF];
    gssize n = fgetxattr(fd, name, stackbuf, sizeof(stackbuf) - 1);

    if (n >= 0) {
        stackbuf[n] = '\0';
        return g_bytes_new(stackbuf, (gsize)n + 1);
    }
    if (errno == ERANGE) {
        g_autofree char *v = sp_fs_fgetxattr(fd, name, NULL, error);

        return v ? g_bytes_new_take(v, strlen(v) + 1) : NULL;
    }
    sp_error_set_errno(error, errno, _("get xattr '%s'"), name);
    return NULL;
}

SpIdentity *
sp_identity_read(int fd, SpIdentityFlags flags, GError **error)
{
    g_autoptr(SpIdentity) id = sp_identity_new();
    g_autofree char *names = NULL;
    gboolean has_label = FALSE;
    struct stat st;
    gssize len = 0;

    if (fstat(fd, &st) < 0) {
        sp_error_set_errno(error, errno, "fstat");
        return NULL;
    }
    id->mode = st.st_mode & 07777;
    id->uid = st.st_uid;
    id->gid = st.st_gid;
    names = list_names(fd, &len, error);
    if (!names)
        return NULL;
    for (const char *n = names; n < names + len; n += strlen(n) + 1) {
        const char *key = n + strlen(SP_XATTR_PREFIX);
        GBytes *value;

        if (g_str_equal(n, SP_XATTR_LABEL))
            has_label = TRUE;
        if (!g_str_has_prefix(n, SP_XATTR_PREFIX) || !*key)
            continue;
        if ((flags & SP_IDENTITY_SUMMARY) && g_str_equal(key, SP_ID_DEFINITION))
            continue;
        value = get_value(fd, n, error);
        if (!value)
            return NULL;
        g_hash_table_replace(id->attrs, g_strdup(key), value);
    }
    if (has_label && !(flags & SP_IDENTITY_SUMMARY)) {
        gboolean unsupported = FALSE;

        if (!sp_label_fd_get(fd, &id->label, &unsupported, error))
            return NULL;
    }
    return g_steal_pointer(&id);
}

/* ENOSPC/E2BIG on setxattr: name the limit of the filesystem at hand. */
static gboolean
too_big(int fd, const char *what, gsize total, int errsv, GError **error)
{
    struct statfs sfs;

    if (fstatfs(fd, &sfs) == 0 && sfs.f_type == SP_EXT4_MAGIC)
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: its recorded definition and label (%zu bytes of "
                      "extended attributes) do not fit: ext4 keeps all of a "
                      "file's extended attributes in one %lu-byte block (%s); "
                      "shorten the label or the volume XML"),
                    what, total, (unsigned long)sfs.f_bsize, g_strerror(errsv));
    else
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: its recorded definition and label (%zu bytes of "
                      "extended attributes) do not fit on this filesystem "
                      "(%s); shorten the label or the volume XML"),
                    what, total, g_strerror(errsv));
    return FALSE;
}

static gboolean
remove_others(const SpIdentity *id, int fd, GError **error)
{
    g_autofree char *names = NULL;
    gssize len = 0;

    names = list_names(fd, &len, error);
    if (!names)
        return FALSE;
    for (const char *n = names; n < names + len; n += strlen(n) + 1) {
        const char *key = n + strlen(SP_XATTR_PREFIX);

        if (!g_str_has_prefix(n, SP_XATTR_PREFIX) ||
            g_hash_table_contains(id->attrs, key))
            continue;
        if (fremovexattr(fd, n) < 0 && errno != ENODATA)
            return sp_error_set_errno(error, errno, _("remove xattr '%s'"), n);
    }
    return TRUE;
}

gboolean
sp_identity_apply(const SpIdentity *id, int fd, const char *what,
                  GError **error)
{
    GHashTableIter it;
    gpointer key, value;
    gsize total = id->label ? strlen(id->label) : 0;

    if (!remove_others(id, fd, error))
        return FALSE;
    g_hash_table_iter_init(&it, id->attrs);
    while (g_hash_table_iter_next(&it, &key, &value))
        total +=
            strlen(SP_XATTR_PREFIX) + strlen(key) + g_bytes_get_size(value);
    g_hash_table_iter_init(&it, id->attrs);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        g_autofree char *name = g_strconcat(SP_XATTR_PREFIX, key, NULL);
        gsize len = g_bytes_get_size(value) - 1; /* without our NUL */

        if (fsetxattr(fd, name, g_bytes_get_data(value, NULL), len, 0) < 0) {
            int errsv = errno;

            if (errsv == ENOSPC || errsv == E2BIG)
                return too_big(fd, what, total, errsv, error);
            return sp_error_set_errno(error, errsv, _("%s: set xattr '%s'"),
                                      what, name);
        }
    }
    if (id->label) {
        gboolean unsupported = FALSE;

        if (!sp_label_fd_set(fd, id->label, &unsupported, what, error))
            return FALSE;
        if (unsupported)
            g_debug("%s: filesystem has no labels, '%s' not applied", what,
                    id->label);
    }
    if (!sp_fs_fset_perms(fd, id->mode, id->uid, id->gid, error)) {
        g_prefix_error(error, "%s: ", what);
        return FALSE;
    }
    return TRUE;
}

SpIdentity *
sp_identity_for_volume(const SpVolume *vol, const char *path,
                       guint32 default_mode, GError **error)
{
    g_autoptr(SpIdentity) id = sp_identity_new();
    g_autofree char *xml = NULL;

    id->mode = vol->has_mode ? vol->mode : (default_mode ? default_mode : 0600);
    id->uid = vol->owner >= 0 ? (uid_t)vol->owner : (uid_t)-1;
    id->gid = vol->group >= 0 ? (gid_t)vol->group : (gid_t)-1;
    id->label = g_strdup(vol->label);
    sp_identity_set(id, SP_ID_FORMAT, sp_format_to_string(vol->format));
    if (vol->encryption.enabled)
        sp_identity_set(id, SP_ID_ENCRYPTION, "luks");
    if (vol->backing_path) {
        g_autofree char *backing =
            sp_fs_normalize_abs(vol->backing_path, error);

        if (!backing)
            return NULL;
        sp_identity_set(id, SP_ID_BACKING, backing);
        sp_identity_set(id, SP_ID_BACKING_FORMAT,
                        sp_format_to_string(vol->backing_format));
    }
    xml = sp_volume_to_xml(vol, path);
    sp_identity_set(id, SP_ID_DEFINITION, xml);
    return g_steal_pointer(&id);
}
