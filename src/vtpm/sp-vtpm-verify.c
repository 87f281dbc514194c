/* Checking a state against what the domain and the policy require, and
 * fixing exactly the differences found, on O_NOFOLLOW file descriptors. */
#include "vtpm/sp-vtpm-verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "vtpm/sp-vtpm-util.h"

void
sp_vtpm_diff_free(SpVtpmDiff *d)
{
    if (!d)
        return;
    g_free(d->path);
    g_free(d->field);
    g_free(d->expected);
    g_free(d->actual);
    g_free(d);
}

typedef struct {
    SpVtpmRoot *root;
    const SpVtpmSpec *spec;
    gboolean fix;
    GPtrArray *diffs;
    gboolean label_notice;
} CheckCtx;

static SpVtpmDiff *
add_diff(CheckCtx *c, const char *path, const char *field, char *expected,
         char *actual)
{
    SpVtpmDiff *d = g_new0(SpVtpmDiff, 1);

    d->path = g_strdup(path);
    d->field = g_strdup(field);
    d->expected = expected;
    d->actual = actual;
    g_ptr_array_add(c->diffs, d);
    return d;
}

/* Check (and fix) one file or directory through @fd. */
static gboolean
check_fd(CheckCtx *c, int fd, const char *path, const char *name,
         const struct stat *st, uid_t uid, gid_t gid, gboolean want_label,
         GError **error)
{
    gboolean top = want_label == FALSE; /* root and <uuid>: exact 0711 */
    mode_t mode = st->st_mode & 07777;
    gboolean mode_ok = top ? mode == 0711 : sp_vtpm_mode_ok(name, st->st_mode);
    mode_t fixed_mode = top ? 0711 : sp_vtpm_mode_fix(name, st->st_mode);

    if (st->st_uid != uid || st->st_gid != gid) {
        SpVtpmDiff *d =
            add_diff(c, path, "owner", g_strdup_printf("%u:%u", uid, gid),
                     g_strdup_printf("%u:%u", st->st_uid, st->st_gid));

        if (c->fix) {
            if (fchown(fd, uid, gid) < 0)
                return sp_error_set_errno(error, errno, _("'%s': chown"), path);
            d->fixed = TRUE;
        }
    }
    if (!mode_ok) {
        SpVtpmDiff *d = add_diff(
            c, path, "mode",
            g_strdup(top || S_ISDIR(st->st_mode)  ? (top ? "0711" : "0700")
                     : strcmp(name, ".lock") == 0 ? "0640 or stricter"
                                                  : "0600 or stricter"),
            g_strdup_printf("%04o", mode));

        if (c->fix) {
            if (fchmod(fd, fixed_mode) < 0)
                return sp_error_set_errno(error, errno, _("'%s': chmod"), path);
            d->fixed = TRUE;
        }
    } else if (c->fix && (st->st_mode & (S_ISUID | S_ISGID)) &&
               fchmod(fd, mode) < 0) {
        /* fchown cleared setuid/setgid bits that were part of a valid
         * mode: cannot happen for 0600/0700, kept for clarity. */
        return sp_error_set_errno(error, errno, _("'%s': chmod"), path);
    }
    if (want_label && c->spec->label) {
        g_autofree char *label = NULL;
        gboolean unsupported = FALSE;

        if (!sp_label_fd_get(fd, &label, &unsupported, error))
            return FALSE;
        if (unsupported) {
            if (!c->label_notice)
                sp_vtpm_root_notice(c->root,
                                    _("'%s': filesystem has no SELinux "
                                      "labels, label not checked"),
                                    path);
            c->label_notice = TRUE;
        } else if (g_strcmp0(label, c->spec->label) != 0) {
            SpVtpmDiff *d = add_diff(c, path, "label", g_strdup(c->spec->label),
                                     g_strdup(label ? label : "(none)"));

            if (c->fix) {
                if (!sp_label_fd_set(fd, c->spec->label, &unsupported, path,
                                     error))
                    return FALSE;
                d->fixed = TRUE;
            }
        }
    }
    return TRUE;
}

static gboolean
check_entry(const SpVtpmEntry *e, gpointer data, GError **error)
{
    CheckCtx *c = data;
    g_autofd int fd = -1;

    if (!S_ISDIR(e->st.st_mode) && !S_ISREG(e->st.st_mode)) {
        /* Never followed, chowned or labelled: a symlink planted here would
         * otherwise redirect the change to its target. */
        add_diff(c, e->relpath, "type", g_strdup("file or directory"),
                 g_strdup(sp_vtpm_type_name(e->st.st_mode)));
        return TRUE;
    }
    if (sp_vtpm_entry_shared(&e->st)) {
        /* Owner, mode and label belong to the other link's file too:
         * reported, never changed. */
        add_diff(c, e->relpath, "links", g_strdup("1"),
                 g_strdup_printf("%ju", (uintmax_t)e->st.st_nlink));
        return TRUE;
    }
    fd = sp_vtpm_entry_open(e, error);
    if (fd < 0)
        return FALSE;
    return check_fd(c, fd, e->relpath, e->name, &e->st, c->spec->uid,
                    c->spec->gid, TRUE, error);
}

GPtrArray *
sp_vtpm_check(SpVtpmRoot *root, const SpVtpmSpec *spec, gboolean fix,
              GError **error)
{
    g_autoptr(GPtrArray) diffs =
        g_ptr_array_new_with_free_func((GDestroyNotify)sp_vtpm_diff_free);
    CheckCtx c = {root, spec, fix, diffs, FALSE};
    g_autofd int ufd = -1;
    struct stat st;
    g_autofree char *rel = NULL;

    if (fstat(root->fd, &st) < 0) {
        sp_error_set_errno(error, errno, "'%s'", root->path);
        return NULL;
    }
    if (!check_fd(&c, root->fd, ".", ".", &st, 0, 0, FALSE, error))
        return NULL;
    ufd = sp_fs_open_subdir(root->fd, spec->uuid, error);
    if (ufd < 0) {
        if (error && *error && (*error)->code == SP_ERROR_NOT_FOUND) {
            g_clear_error(error);
            g_set_error(error, SP_ERROR, SP_ERROR_NOT_FOUND,
                        _("vTPM state '%s': does not exist in '%s'"),
                        spec->uuid, root->path);
        }
        return NULL;
    }
    if (fstat(ufd, &st) < 0) {
        sp_error_set_errno(error, errno, "'%s'", spec->uuid);
        return NULL;
    }
    if (!check_fd(&c, ufd, spec->uuid, spec->uuid, &st, 0, 0, FALSE, error))
        return NULL;
    rel = g_strdup_printf("%s/%s", spec->uuid, spec->tpm_dir);
    if (fstatat(ufd, spec->tpm_dir, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT) {
            sp_error_set_errno(error, errno, "'%s'", rel);
            return NULL;
        }
        add_diff(&c, rel, "type", g_strdup("directory"), g_strdup("missing"));
        return g_steal_pointer(&diffs);
    }
    if (!sp_vtpm_walk(ufd, spec->tpm_dir, rel, check_entry, &c, error))
        return NULL;
    return g_steal_pointer(&diffs);
}
