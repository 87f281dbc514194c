/* The vTPM root and its states: opening and locking the root, sweeping
 * stale temporaries, creating, listing and deleting <uuid> directories. */
#include "vtpm/sp-vtpm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"
#include "vtpm/sp-vtpm-util.h"

/* How long a command waits for another one on the same root. */
#define SP_VTPM_LOCK_WAIT_MS 10000

void
sp_vtpm_spec_clear(SpVtpmSpec *spec)
{
    g_clear_pointer(&spec->uuid, g_free);
    g_clear_pointer(&spec->tpm_dir, g_free);
    g_clear_pointer(&spec->name, g_free);
    g_clear_pointer(&spec->label, g_free);
}

void
sp_vtpm_test_abort_point(const char *step)
{
    const char *want = g_getenv("SAFEPOOL_VTPM_TEST_ABORT_AFTER");

    if (want && g_strcmp0(want, step) == 0) {
        fflush(NULL);
        kill(getpid(), SIGKILL);
    }
    /* Stopped, the process holds what it holds at that step (a key, a
     * connection) while a test looks at /proc or restarts a daemon. */
    want = g_getenv("SAFEPOOL_VTPM_TEST_STOP_AFTER");
    if (want && g_strcmp0(want, step) == 0) {
        fflush(NULL);
        kill(getpid(), SIGSTOP);
    }
}

void
sp_vtpm_root_notice(SpVtpmRoot *root, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(root->notices, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void
sp_vtpm_root_free(SpVtpmRoot *root)
{
    if (!root)
        return;
    g_clear_fd(&root->fd, NULL);
    g_clear_pointer(&root->lock, sp_lock_release);
    g_free(root->path);
    g_ptr_array_unref(root->notices);
    g_free(root);
}

static gboolean
sp_vtpm_root_lock(SpVtpmRoot *root, gboolean may_skip, GError **error)
{
    g_autoptr(GError) local = NULL;

    root->lock = sp_lock_acquire_wait(root->fd, SP_VTPM_ROOT_LOCK, TRUE,
                                      SP_VTPM_LOCK_WAIT_MS, &local);
    if (root->lock)
        return TRUE;
    /* A root that cannot hold a lock file (read-only) can still be read. */
    if (may_skip && !g_error_matches(local, SP_ERROR, SP_ERROR_LOCKED)) {
        sp_vtpm_root_notice(root, _("vTPM root '%s': not locked: %s"),
                            root->path, local->message);
        return TRUE;
    }
    g_set_error(error, SP_ERROR, local->code, _("vTPM root '%s': %s"),
                root->path,
                g_error_matches(local, SP_ERROR, SP_ERROR_LOCKED)
                    ? _("locked by another operation")
                    : local->message);
    return FALSE;
}

/* We hold the root's lock, and every command creating a temporary holds
 * it until the temporary is gone or published: whatever is left is from a
 * command that died. */
static gboolean
sp_vtpm_root_sweep(SpVtpmRoot *root, GError **error)
{
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *what = g_strdup_printf(_("vTPM root '%s'"), root->path);

    if (!sp_fs_sweep(root->fd, what, removed, error))
        return FALSE;
    for (guint i = 0; i < removed->len; i++)
        sp_vtpm_root_notice(root, _("removed stale temporary '%s'"),
                            (const char *)g_ptr_array_index(removed, i));
    return TRUE;
}

SpVtpmRoot *
sp_vtpm_root_open(const char *path, gboolean create, gboolean may_skip_lock,
                  GError **error)
{
    g_autoptr(SpVtpmRoot) root = g_new0(SpVtpmRoot, 1);
    g_autoptr(GError) local = NULL;

    root->fd = -1;
    root->notices = g_ptr_array_new_with_free_func(g_free);
    root->path = sp_fs_normalize_abs(path, error);
    if (!root->path)
        return NULL;
    root->fd = sp_fs_open_dir(root->path, &local);
    if (root->fd < 0 && create &&
        g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND)) {
        g_clear_error(&local);
        if (mkdir(root->path, 0711) < 0 && errno != EEXIST) {
            sp_error_set_errno(error, errno, _("vTPM root '%s'"), root->path);
            return NULL;
        }
        root->fd = sp_fs_open_dir(root->path, &local);
        /* mkdir's mode went through the umask; libvirt's is 0711. */
        if (root->fd >= 0 && !sp_fs_fset_perms(root->fd, 0711, 0, 0, &local)) {
            close(root->fd);
            root->fd = -1;
        }
    }
    if (root->fd < 0) {
        g_set_error(error, SP_ERROR, local->code, _("vTPM root: %s"),
                    local->message);
        return NULL;
    }
    if (!sp_vtpm_root_lock(root, may_skip_lock, error))
        return NULL;
    if (root->lock && !sp_vtpm_root_sweep(root, error))
        return NULL;
    return g_steal_pointer(&root);
}

const char *
sp_vtpm_dir_for_version(const char *version)
{
    return g_strcmp0(version, "1.2") == 0 ? "tpm1.2" : "tpm2";
}

char *
sp_vtpm_find_tpm_dir(SpVtpmRoot *root, const char *uuid, const char *want,
                     GError **error)
{
    static const char *const dirs[] = {"tpm2", "tpm1.2"};
    g_autofd int ufd = sp_fs_open_subdir(root->fd, uuid, error);
    struct stat st;

    if (ufd < 0) {
        if (error && *error && (*error)->code == SP_ERROR_NOT_FOUND) {
            g_clear_error(error);
            g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                        _("vTPM state '%s': does not exist in '%s'"), uuid,
                        root->path);
        }
        return NULL;
    }
    if (want)
        return g_strdup(want);
    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++)
        if (fstatat(ufd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
            return g_strdup(dirs[i]);
    g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                _("vTPM state '%s': has neither tpm2 nor tpm1.2"), uuid);
    return NULL;
}

static gboolean
check_not_running_in(SpVtpmRoot *root, const char *uuid, const char *tpm_dir,
                     GError **error)
{
    g_autofree char *rel = g_strdup_printf("%s/%s/.lock", uuid, tpm_dir);
    g_autoptr(GError) local = NULL;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    g_autofd int fd = -1;

    /* swtpm holds a POSIX write lock on .lock while it runs. */
    fd = sp_fs_openat(root->fd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0,
                      &local);
    if (fd < 0) {
        if (g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (fcntl(fd, F_GETLK, &fl) < 0)
        return sp_error_set_errno(error, errno, "'%s'", rel);
    if (fl.l_type != F_UNLCK) {
        g_set_error(error, SP_ERROR, SP_ERROR_LOCKED,
                    _("vTPM state '%s': in use by a running swtpm (pid %d)"),
                    uuid, (int)fl.l_pid);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_vtpm_check_not_running(SpVtpmRoot *root, const char *uuid,
                          const char *tpm_dir, GError **error)
{
    /* Delete, save and restore act on all of <uuid>, whichever tpm dir
     * they were given or detected: a swtpm running on the other one
     * (the domain's TPM version changed) must stop them too. */
    static const char *const dirs[] = {"tpm2", "tpm1.2"};

    if (tpm_dir && !check_not_running_in(root, uuid, tpm_dir, error))
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++)
        if (g_strcmp0(tpm_dir, dirs[i]) != 0 &&
            !check_not_running_in(root, uuid, dirs[i], error))
            return FALSE;
    return TRUE;
}

/* The new state's two directories, owned, labelled and synced inside the
 * temporary @t. */
static gboolean
sp_vtpm_create_fill(SpVtpmRoot *root, const SpVtpmSpec *spec, SpFsTmp *t,
                    GError **error)
{
    g_autofd int sfd = -1;
    gboolean unsupported = FALSE;

    if (!sp_fs_fset_perms(t->fd, 0711, 0, 0, error))
        return FALSE;
    if (mkdirat(t->fd, spec->tpm_dir, 0700) < 0)
        return sp_error_set_errno(error, errno, "'%s/%s'", spec->uuid,
                                  spec->tpm_dir);
    sfd = sp_fs_open_subdir(t->fd, spec->tpm_dir, error);
    if (sfd < 0 || !sp_fs_fset_perms(sfd, 0700, spec->uid, spec->gid, error))
        return FALSE;
    if (spec->label &&
        !sp_label_fd_set(sfd, spec->label, &unsupported, spec->tpm_dir, error))
        return FALSE;
    if (unsupported)
        sp_vtpm_root_notice(root,
                            _("'%s': filesystem has no SELinux labels, "
                              "label '%s' skipped"),
                            root->path, spec->label);
    return sp_vtpm_fsync(sfd, spec->tpm_dir, error) &&
           sp_vtpm_fsync(t->fd, t->name, error);
}

gboolean
sp_vtpm_create(SpVtpmRoot *root, const SpVtpmSpec *spec, GError **error)
{
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    g_autoptr(GError) local = NULL;
    struct stat st;

    if (fstatat(root->fd, spec->uuid, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                    _("vTPM state '%s': exists, left untouched"), spec->uuid);
        return FALSE;
    }
    if (!sp_fs_tmp_dir(&t, root->fd, "create", error) ||
        !sp_vtpm_create_fill(root, spec, &t, error))
        return FALSE;
    if (!sp_fs_tmp_publish(&t, spec->uuid, &local)) {
        if (g_error_matches(local, SP_ERROR, SP_ERROR_EXISTS))
            g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                        _("vTPM state '%s': exists, left untouched"),
                        spec->uuid);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    return sp_vtpm_fsync(root->fd, root->path, error);
}

gboolean
sp_vtpm_delete(SpVtpmRoot *root, const char *uuid, GError **error)
{
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    struct stat st;

    if (fstatat(root->fd, uuid, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISDIR(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                    _("vTPM state '%s': does not exist in '%s'"), uuid,
                    root->path);
        return FALSE;
    }
    /* One rename takes the whole state away; a crash afterwards leaves a
     * temporary the next command sweeps. */
    if (!sp_fs_tmp_take(&t, root->fd, uuid, root->fd, "delete", SP_FS_TMP_NONE,
                        error)) {
        g_prefix_error(error, _("vTPM state '%s': "), uuid);
        return FALSE;
    }
    sp_vtpm_test_abort_point("delete-rename");
    return sp_fs_tmp_discard(&t, error) &&
           sp_vtpm_fsync(root->fd, root->path, error);
}

void
sp_vtpm_list_entry_free(SpVtpmListEntry *e)
{
    if (!e)
        return;
    g_free(e->uuid);
    g_free(e->tpm_dir);
    g_free(e->label);
    g_free(e);
}

static gboolean
add_size(const SpVtpmEntry *e, gpointer data, GError **error)
{
    if (S_ISREG(e->st.st_mode))
        *(guint64 *)data += (guint64)e->st.st_size;
    return TRUE;
}

GPtrArray *
sp_vtpm_list(SpVtpmRoot *root, GError **error)
{
    g_autoptr(GPtrArray) names = sp_fs_list(root->fd, error);
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(GError) local = NULL;

    if (!names)
        return NULL;
    out =
        g_ptr_array_new_with_free_func((GDestroyNotify)sp_vtpm_list_entry_free);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        SpVtpmListEntry *e;
        g_autofd int ufd = -1;
        g_autofd int sfd = -1;
        struct stat st;
        gboolean unsupported;

        if (!sp_vtpm_is_uuid(name))
            continue;
        ufd = sp_fs_open_subdir(root->fd, name, NULL);
        if (ufd < 0)
            continue; /* not a directory: verify reports it, list skips */
        e = g_new0(SpVtpmListEntry, 1);
        e->uuid = g_strdup(name);
        g_ptr_array_add(out, e);
        e->tpm_dir = sp_vtpm_find_tpm_dir(root, name, NULL, NULL);
        if (!e->tpm_dir)
            continue;
        sfd = sp_fs_open_subdir(ufd, e->tpm_dir, NULL);
        if (sfd < 0 || fstat(sfd, &st) < 0) {
            g_clear_pointer(&e->tpm_dir, g_free);
            continue;
        }
        e->uid = st.st_uid;
        e->gid = st.st_gid;
        e->mode = st.st_mode & 07777;
        if (!sp_label_fd_get(sfd, &e->label, &unsupported, error))
            return NULL;
        /* swtpm's user shapes the tree: a state no walk accepts is listed
         * (it does not match the policy) and named, but cannot hide the
         * others. */
        if (!sp_vtpm_walk(ufd, e->tpm_dir, e->tpm_dir, add_size, &e->size,
                          &local)) {
            sp_vtpm_root_notice(root, _("vTPM state '%s': %s"), name,
                                local->message);
            g_clear_error(&local);
        }
    }
    return g_steal_pointer(&out);
}
