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
    if (root->fd >= 0)
        close(root->fd);
    if (root->lock_fd >= 0)
        close(root->lock_fd); /* drops the OFD lock */
    g_free(root->path);
    g_ptr_array_unref(root->notices);
    g_free(root);
}

static gboolean
root_lock(SpVtpmRoot *root, gboolean may_skip, GError **error)
{
    g_autoptr(GError) local = NULL;
    sp_autofd int fd = -1;

    fd = sp_fs_openat(root->fd, SP_VTPM_LOCK_FILE, O_RDWR | O_CREAT, 0600,
                      &local);
    if (fd < 0) {
        if (may_skip) {
            sp_vtpm_root_notice(root, _("vTPM root '%s': not locked: %s"),
                                root->path, local->message);
            return TRUE;
        }
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   _("vTPM root '%s': "), root->path);
        return FALSE;
    }
    for (int waited = 0;; waited += 50) {
        g_clear_error(&local);
        if (sp_lock_fd_byte0(fd, TRUE, &local))
            break;
        if (!g_error_matches(local, SP_ERROR, SP_ERROR_LOCKED) ||
            waited >= SP_VTPM_LOCK_WAIT_MS) {
            g_set_error(error, SP_ERROR, local->code,
                        _("vTPM root '%s': %s"), root->path, local->message);
            return FALSE;
        }
        g_usleep(50 * 1000);
    }
    root->lock_fd = fd;
    fd = -1;
    return TRUE;
}

/* We hold the root's lock, and every command creating a temporary holds
 * it until the temporary is gone or published: whatever is left is from a
 * command that died. */
static gboolean
root_sweep(SpVtpmRoot *root, GError **error)
{
    g_autoptr(GPtrArray) names = sp_fs_list(root->fd, error);

    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);

        if (!g_str_has_prefix(name, SP_TMP_PREFIX))
            continue;
        if (!sp_fs_rm_rf(root->fd, name, error))
            return FALSE;
        sp_vtpm_root_notice(root, _("removed stale temporary '%s'"), name);
    }
    return TRUE;
}

SpVtpmRoot *
sp_vtpm_root_open(const char *path, gboolean create, gboolean may_skip_lock,
                  GError **error)
{
    g_autoptr(SpVtpmRoot) root = g_new0(SpVtpmRoot, 1);
    g_autoptr(GError) local = NULL;

    root->fd = -1;
    root->lock_fd = -1;
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
        if (root->fd >= 0 &&
            !sp_fs_fset_perms(root->fd, 0711, 0, 0, &local)) {
            close(root->fd);
            root->fd = -1;
        }
    }
    if (root->fd < 0) {
        g_set_error(error, SP_ERROR, local->code, _("vTPM root: %s"),
                    local->message);
        return NULL;
    }
    if (!root_lock(root, may_skip_lock, error))
        return NULL;
    if (root->lock_fd >= 0 && !root_sweep(root, error))
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
    sp_autofd int ufd = sp_fs_open_subdir(root->fd, uuid, error);
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
    sp_autofd int fd = -1;

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
                    uuid, (int) fl.l_pid);
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

gboolean
sp_vtpm_create(SpVtpmRoot *root, const SpVtpmSpec *spec, GError **error)
{
    g_autofree char *tmp = NULL;
    sp_autofd int tfd = -1;
    sp_autofd int sfd = -1;
    struct stat st;
    gboolean unsupported = FALSE;
    gboolean ok;

    if (fstatat(root->fd, spec->uuid, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                    _("vTPM state '%s': exists, left untouched"), spec->uuid);
        return FALSE;
    }
    tfd = sp_fs_mkdtemp(root->fd, "create", &tmp, error);
    if (tfd < 0)
        return FALSE;
    ok = sp_fs_fset_perms(tfd, 0711, 0, 0, error);
    if (ok && mkdirat(tfd, spec->tpm_dir, 0700) < 0)
        ok = sp_error_set_errno(error, errno, "'%s/%s'", spec->uuid,
                                spec->tpm_dir);
    if (ok) {
        sfd = sp_fs_open_subdir(tfd, spec->tpm_dir, error);
        ok = sfd >= 0 &&
             sp_fs_fset_perms(sfd, 0700, spec->uid, spec->gid, error);
    }
    if (ok && spec->label)
        ok = sp_vtpm_label_set(sfd, spec->label, &unsupported, spec->tpm_dir,
                               error);
    if (ok && unsupported)
        sp_vtpm_root_notice(root, _("'%s': filesystem has no SELinux labels, "
                                    "label '%s' skipped"),
                            root->path, spec->label);
    ok = ok && sp_vtpm_fsync(sfd, spec->tpm_dir, error) &&
         sp_vtpm_fsync(tfd, tmp, error) &&
         sp_fs_publish(root->fd, tmp, spec->uuid, error);
    if (!ok) {
        sp_fs_rm_rf(root->fd, tmp, NULL);
        if (error && *error && (*error)->code == SP_ERROR_EXISTS) {
            g_clear_error(error);
            g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                        _("vTPM state '%s': exists, left untouched"),
                        spec->uuid);
        }
        return FALSE;
    }
    return sp_vtpm_fsync(root->fd, root->path, error);
}

gboolean
sp_vtpm_delete(SpVtpmRoot *root, const char *uuid, GError **error)
{
    struct stat st;

    if (fstatat(root->fd, uuid, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISDIR(st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                    _("vTPM state '%s': does not exist in '%s'"), uuid,
                    root->path);
        return FALSE;
    }
    for (int i = 0; i < 100; i++) {
        g_autofree char *tmp =
            g_strdup_printf(SP_TMP_PREFIX "delete-%08x", g_random_int());

        /* One rename takes the whole state away; a crash afterwards leaves
         * a temporary the next command sweeps. */
        if (renameat2(root->fd, uuid, root->fd, tmp, RENAME_NOREPLACE) < 0) {
            if (errno == EEXIST)
                continue;
            return sp_error_set_errno(error, errno, _("vTPM state '%s'"),
                                      uuid);
        }
        sp_vtpm_test_abort_point("delete-rename");
        return sp_fs_rm_rf(root->fd, tmp, error) &&
               sp_vtpm_fsync(root->fd, root->path, error);
    }
    g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                _("vTPM state '%s': no free temporary name"), uuid);
    return FALSE;
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
        *(guint64 *) data += (guint64) e->st.st_size;
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
    out = g_ptr_array_new_with_free_func(
        (GDestroyNotify) sp_vtpm_list_entry_free);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        SpVtpmListEntry *e;
        sp_autofd int ufd = -1;
        sp_autofd int sfd = -1;
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
        if (!sp_vtpm_label_get(sfd, &e->label, &unsupported, error))
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
