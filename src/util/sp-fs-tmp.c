/* The pool-entry lifecycle (see sp-fs-tmp.h): hidden name locked before it
 * exists, built, then published, exchanged in or discarded; and the
 * sweeper that removes what crashed operations left. */
#include "util/sp-fs-tmp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

#define SP_FS_TMP_TRIES 100
#define SP_FS_TMP_TAG_MAX 32

static char *
sp_fs_tmp_name(const char *tag)
{
    static const char chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char suffix[7];

    for (gsize i = 0; i < 6; i++)
        suffix[i] = chars[g_random_int_range(0, (gint32)sizeof(chars) - 1)];
    suffix[6] = '\0';
    return g_strdup_printf(SP_TMP_PREFIX "%s-%s", tag, suffix);
}

/* Tags are the caller's constants ("create", "upload"): never user input,
 * so a volume name of any allowed length fits in NAME_MAX. */
static gboolean
sp_fs_tmp_check_tag(const char *tag, GError **error)
{
    if (!tag || !*tag || strlen(tag) > SP_FS_TMP_TAG_MAX || strchr(tag, '/')) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("temporary tag '%s': must be a short name without '/'"),
                    tag ? tag : "");
        return FALSE;
    }
    return TRUE;
}

typedef enum {
    SP_FS_TMP_MADE,
    SP_FS_TMP_TAKEN, /* the name exists: try another */
    SP_FS_TMP_FAILED,
} SpFsTmpMake;

typedef SpFsTmpMake (*SpFsTmpMakeFunc)(SpFsTmp *t, const char *name,
                                       gpointer data, GError **error);

/* Claim a fresh hidden name (its lock first, then @make creates the entry
 * under it) and fill @t. */
static gboolean
sp_fs_tmp_claim(SpFsTmp *t, int dirfd, const char *tag, SpFsTmpFlags flags,
                SpFsTmpMakeFunc make, gpointer data, GError **error)
{
    g_return_val_if_fail(t->name == NULL && t->fd < 0 && !t->lock, FALSE);

    if (!sp_fs_tmp_check_tag(tag, error))
        return FALSE;
    t->dirfd = dirfd;
    for (int i = 0; i < SP_FS_TMP_TRIES; i++) {
        g_autofree char *name = sp_fs_tmp_name(tag);
        g_autoptr(GError) local = NULL;
        g_autoptr(SpLock) lock = NULL;

        if (!(flags & SP_FS_TMP_UNLOCKED)) {
            lock = sp_lock_acquire(dirfd, name, TRUE, &local);
            if (!lock) {
                /* another live name hashing to the same byte: go on */
                if (g_error_matches(local, SP_ERROR, SP_ERROR_LOCKED))
                    continue;
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
        }
        switch (make(t, name, data, error)) {
        case SP_FS_TMP_MADE:
            t->name = g_steal_pointer(&name);
            t->lock = g_steal_pointer(&lock);
            return TRUE;
        case SP_FS_TMP_TAKEN:
            continue;
        case SP_FS_TMP_FAILED:
            return FALSE;
        }
    }
    g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                _("temporary for '%s': no free name found"), tag);
    return FALSE;
}

static SpFsTmpMake
sp_fs_tmp_make_file(SpFsTmp *t, const char *name, gpointer data, GError **error)
{
    g_autoptr(GError) local = NULL;

    t->fd =
        sp_fs_openat(t->dirfd, name, O_RDWR | O_CREAT | O_EXCL, 0600, &local);
    if (t->fd >= 0)
        return SP_FS_TMP_MADE;
    if (g_error_matches(local, SP_ERROR, SP_ERROR_EXISTS))
        return SP_FS_TMP_TAKEN;
    g_propagate_error(error, g_steal_pointer(&local));
    return SP_FS_TMP_FAILED;
}

gboolean
sp_fs_tmp_file(SpFsTmp *t, int dirfd, const char *tag, GError **error)
{
    t->is_dir = FALSE;
    return sp_fs_tmp_claim(t, dirfd, tag, SP_FS_TMP_NONE, sp_fs_tmp_make_file,
                           NULL, error);
}

static SpFsTmpMake
sp_fs_tmp_make_dir(SpFsTmp *t, const char *name, gpointer data, GError **error)
{
    /* A single component: mkdirat cannot leave @dirfd. */
    if (mkdirat(t->dirfd, name, 0700) < 0) {
        if (errno == EEXIST)
            return SP_FS_TMP_TAKEN;
        sp_error_set_errno(error, errno, "'%s'", name);
        return SP_FS_TMP_FAILED;
    }
    t->fd = sp_fs_open_subdir(t->dirfd, name, error);
    if (t->fd < 0) {
        unlinkat(t->dirfd, name, AT_REMOVEDIR);
        return SP_FS_TMP_FAILED;
    }
    return SP_FS_TMP_MADE;
}

gboolean
sp_fs_tmp_dir(SpFsTmp *t, int dirfd, const char *tag, GError **error)
{
    t->is_dir = TRUE;
    return sp_fs_tmp_claim(t, dirfd, tag, SP_FS_TMP_NONE, sp_fs_tmp_make_dir,
                           NULL, error);
}

typedef struct {
    int from_dirfd;
    const char *from;
} SpFsTmpTake;

static SpFsTmpMake
sp_fs_tmp_make_taken(SpFsTmp *t, const char *name, gpointer data,
                     GError **error)
{
    const SpFsTmpTake *take = data;
    struct stat st;

    if (renameat2(take->from_dirfd, take->from, t->dirfd, name,
                  RENAME_NOREPLACE) < 0) {
        if (errno == EEXIST)
            return SP_FS_TMP_TAKEN;
        sp_error_set_errno(error, errno, "'%s'", take->from);
        return SP_FS_TMP_FAILED;
    }
    /* An O_PATH fd: it names the inode for still_ours without opening
     * whatever the entry is (a FIFO, a device). */
    t->fd = sp_fs_openat(t->dirfd, name, O_PATH, 0, NULL);
    t->is_dir = t->fd >= 0 && fstat(t->fd, &st) == 0 && S_ISDIR(st.st_mode);
    return SP_FS_TMP_MADE;
}

gboolean
sp_fs_tmp_take(SpFsTmp *t, int from_dirfd, const char *name, int dirfd,
               const char *tag, SpFsTmpFlags flags, GError **error)
{
    SpFsTmpTake take = {from_dirfd, name};

    return sp_fs_tmp_claim(t, dirfd, tag, flags, sp_fs_tmp_make_taken, &take,
                           error);
}

gboolean
sp_fs_tmp_still_ours(const SpFsTmp *t, const char *what, const char *during,
                     GError **error)
{
    struct stat a, b;

    if (t->name && t->fd >= 0 && fstat(t->fd, &a) == 0 &&
        fstatat(t->dirfd, t->name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
        (a.st_mode & S_IFMT) == (b.st_mode & S_IFMT) && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev)
        return TRUE;
    if (during)
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: temporary '%s' was removed or replaced while %s"),
                    what, t->name ? t->name : "", during);
    else
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: temporary '%s' was removed or replaced"), what,
                    t->name ? t->name : "");
    return FALSE;
}

static void
sp_fs_tmp_release(SpFsTmp *t)
{
    g_clear_fd(&t->fd, NULL);
    g_clear_pointer(&t->name, g_free);
    g_clear_pointer(&t->lock, sp_lock_release);
}

gboolean
sp_fs_tmp_publish(SpFsTmp *t, const char *name, GError **error)
{
    if (!sp_fs_publish(t->dirfd, t->name, name, error))
        return FALSE;
    g_clear_pointer(&t->name, g_free);
    return TRUE;
}

gboolean
sp_fs_tmp_exchange(SpFsTmp *t, const char *name, GError **error)
{
    return sp_fs_exchange(t->dirfd, t->name, name, error);
}

void
sp_fs_tmp_keep(SpFsTmp *t)
{
    sp_fs_tmp_release(t);
}

gboolean
sp_fs_tmp_discard(SpFsTmp *t, GError **error)
{
    gboolean ok = TRUE;

    /* Close first: nothing of ours keeps the entry's inode alive. */
    g_clear_fd(&t->fd, NULL);
    if (t->name)
        ok = sp_fs_rm_rf(t->dirfd, t->name, error);
    sp_fs_tmp_release(t);
    return ok;
}

void
sp_fs_tmp_clear(SpFsTmp *t)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *name = g_strdup(t->name);

    if (!sp_fs_tmp_discard(t, &local))
        g_warning(_("cannot remove temporary '%s': %s"), name, local->message);
}

/* The hidden temporaries of @dirfd whose makers are gone, removed when
 * @remove. Without a lock file nothing ever held one: all are stale (and
 * the lock file is not made just to look). */
static gboolean
sp_fs_stale_walk(int dirfd, const char *what, gboolean remove, GPtrArray *out,
                 GError **error)
{
    g_autoptr(GPtrArray) names = sp_fs_list(dirfd, error);
    struct stat st;
    gboolean no_lock_file;

    if (!names)
        return FALSE;
    no_lock_file = !remove &&
                   fstatat(dirfd, SP_LOCK_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                   errno == ENOENT;
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autoptr(SpLock) lock = NULL;
        g_autoptr(GError) local = NULL;

        if (!g_str_has_prefix(name, SP_TMP_PREFIX))
            continue;
        /* Held: its maker is alive (or a hash twin is). */
        if (!no_lock_file && !(lock = sp_lock_acquire(dirfd, name, TRUE, NULL)))
            continue;
        if (remove && !sp_fs_rm_rf(dirfd, name, &local)) {
            g_warning(_("%s: cannot remove stale temporary '%s': %s"), what,
                      name, local->message);
            continue;
        }
        if (remove)
            g_debug("%s: removed stale temporary '%s'", what, name);
        if (out)
            g_ptr_array_add(out, g_strdup(name));
    }
    return TRUE;
}

gboolean
sp_fs_sweep(int dirfd, const char *what, GPtrArray *removed, GError **error)
{
    return sp_fs_stale_walk(dirfd, what, TRUE, removed, error);
}

GPtrArray *
sp_fs_stale(int dirfd, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

    if (!sp_fs_stale_walk(dirfd, NULL, FALSE, out, error))
        return NULL;
    return g_steal_pointer(&out);
}
