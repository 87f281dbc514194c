/* Internal plumbing of src/vtpm: the bounded fd-walk over a state tree
 * and the mode rules that verify, relabel, save and restore share. */
#include "vtpm/sp-vtpm-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

const char *
sp_vtpm_type_name(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "regular file";
    case S_IFDIR:
        return "directory";
    case S_IFLNK:
        return "symlink";
    case S_IFIFO:
        return "fifo";
    case S_IFSOCK:
        return "socket";
    case S_IFCHR:
        return "character device";
    case S_IFBLK:
        return "block device";
    default:
        return "unknown file type";
    }
}

gboolean
sp_vtpm_is_uuid(const char *name)
{
    if (strlen(name) != 36)
        return FALSE;
    for (int i = 0; i < 36; i++) {
        gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? name[i] != '-'
                 : !(g_ascii_isdigit(name[i]) ||
                     (name[i] >= 'a' && name[i] <= 'f')))
            return FALSE;
    }
    return TRUE;
}

static mode_t
allowed_file_bits(const char *name)
{
    /* swtpm creates its lock file 0640 (measured); everything else 0600. */
    return strcmp(name, ".lock") == 0 ? 0640 : 0600;
}

gboolean
sp_vtpm_mode_ok(const char *name, mode_t mode)
{
    if (S_ISDIR(mode))
        return (mode & 07777) == 0700;
    return (mode & 07777 & ~allowed_file_bits(name)) == 0;
}

mode_t
sp_vtpm_mode_fix(const char *name, mode_t mode)
{
    if (S_ISDIR(mode))
        return 0700;
    return mode & allowed_file_bits(name);
}

gboolean
sp_vtpm_fsync(int fd, const char *what, GError **error)
{
    if (fsync(fd) < 0)
        return sp_error_set_errno(error, errno, _("fsync '%s'"), what);
    return TRUE;
}

gboolean
sp_vtpm_entry_shared(const struct stat *st)
{
    return !S_ISDIR(st->st_mode) && st->st_nlink > 1;
}

int
sp_vtpm_entry_open(const SpVtpmEntry *e, GError **error)
{
    struct stat st;
    int flags;
    int fd;

    if (S_ISDIR(e->st.st_mode))
        flags = O_RDONLY | O_DIRECTORY;
    else if (S_ISREG(e->st.st_mode))
        flags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
    else {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': is a %s, not a file or directory"), e->relpath,
                    sp_vtpm_type_name(e->st.st_mode));
        return -1;
    }
    fd = sp_fs_openat(e->parent_fd, e->name, flags, 0, error);
    if (fd < 0)
        return -1;
    /* Replaced between fstatat and open: refuse rather than act on an
     * inode the walk did not see. */
    if (fstat(fd, &st) < 0 || st.st_ino != e->st.st_ino ||
        st.st_dev != e->st.st_dev ||
        (st.st_mode & S_IFMT) != (e->st.st_mode & S_IFMT)) {
        close(fd);
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("'%s': replaced while being processed"), e->relpath);
        return -1;
    }
    /* A second link shares the inode with a file outside the state (say
     * another domain's state): chown, chmod, label or copy-out through
     * this fd would act on that file too. Checked on the open fd, so a
     * link added after the walk's fstatat is caught as well. */
    if (sp_vtpm_entry_shared(&st)) {
        close(fd);
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': has %ju hard links; a vTPM state file has one"),
                    e->relpath, (uintmax_t)st.st_nlink);
        return -1;
    }
    return fd;
}

typedef struct {
    SpVtpmWalkFunc fn;
    gpointer data;
    guint count;
} WalkCtx;

static gboolean
walk_at(WalkCtx *ctx, int parent_fd, const char *name, const char *relpath,
        int depth, GError **error)
{
    SpVtpmEntry e = {parent_fd, name, relpath, {0}, depth};
    g_autofd int fd = -1;
    g_autoptr(GPtrArray) names = NULL;

    if (++ctx->count > SP_VTPM_MAX_ENTRIES) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': more than %d entries in the state"), relpath,
                    SP_VTPM_MAX_ENTRIES);
        return FALSE;
    }
    if (fstatat(parent_fd, name, &e.st, AT_SYMLINK_NOFOLLOW) < 0)
        return sp_error_set_errno(error, errno, "'%s'", relpath);
    if (!ctx->fn(&e, ctx->data, error))
        return FALSE;
    if (!S_ISDIR(e.st.st_mode))
        return TRUE;
    if (depth >= SP_VTPM_MAX_DEPTH) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': nested deeper than %d"), relpath,
                    SP_VTPM_MAX_DEPTH);
        return FALSE;
    }
    fd = sp_vtpm_entry_open(&e, error);
    if (fd < 0)
        return FALSE;
    names = sp_fs_list(fd, error);
    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *child = g_ptr_array_index(names, i);
        g_autofree char *cpath = g_strconcat(relpath, "/", child, NULL);

        if (!walk_at(ctx, fd, child, cpath, depth + 1, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
sp_vtpm_walk(int parent_fd, const char *name, const char *relpath,
             SpVtpmWalkFunc fn, gpointer data, GError **error)
{
    WalkCtx ctx = {fn, data, 0};

    return walk_at(&ctx, parent_fd, name, relpath, 0, error);
}
