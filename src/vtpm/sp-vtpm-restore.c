/* Restoring a vTPM state: every archive entry is checked against the
 * manifest while it is unpacked with openat into a temporary inside the
 * root; owner, mode and label are set on fds; RENAME_EXCHANGE swaps it in. */
#include "vtpm/sp-vtpm-archive.h"

#include <inttypes.h>
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-i18n.h"
#include "vtpm/sp-vtpm-manifest.h"
#include "vtpm/sp-vtpm-util.h"

typedef struct {
    const char *input;
    guint64 max;
    struct archive *a;
    SpVtpmManifest *m;
    int tfd; /* the temporary <uuid> directory */
} RestoreCtx;

static gboolean
sp_restore_refuse(RestoreCtx *c, GError **error, const char *path,
                  const char *why)
{
    g_autofree char *shown = g_strescape(path ? path : "", NULL);

    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("archive '%s': entry '%s': %s"), c->input, shown, why);
    return FALSE;
}

static gboolean
sp_restore_corrupt(RestoreCtx *c, GError **error)
{
    /* libarchive's message may quote the archive's bytes (a path name) */
    g_autofree char *msg = g_strdup(archive_error_string(c->a));

    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("archive '%s': truncated or corrupt: %s"), c->input,
                msg ? sp_error_one_line(msg) : _("unexpected end"));
    return FALSE;
}

static gboolean
check_budget(RestoreCtx *c, GError **error)
{
    if ((guint64)archive_filter_bytes(c->a, -1) >
        c->max + SP_VTPM_ARCHIVE_SLACK) {
        g_set_error(
            error, SP_ERROR, SP_ERROR_INVALID,
            _("archive '%s': larger than the limit of %" PRIu64 " bytes"),
            c->input, c->max);
        return FALSE;
    }
    return TRUE;
}

/* Read the current entry's data into @fd (or memory when @fd < 0 and
 * @mem != NULL), bounded by @want; check size and sha256. */
static gboolean
read_data(RestoreCtx *c, const char *path, int fd, guint64 want,
          const char *sha256, GByteArray *mem, GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    guint8 buf[65536];
    guint64 got = 0;

    for (;;) {
        la_ssize_t n = archive_read_data(c->a, buf, sizeof buf);

        if (n < 0)
            return sp_restore_corrupt(c, error);
        if (n == 0)
            break;
        got += (guint64)n;
        if (got > want)
            return sp_restore_refuse(c, error, path,
                                     _("more data than the manifest says"));
        g_checksum_update(sum, buf, n);
        if (mem)
            g_byte_array_append(mem, buf, n);
        else if (!sp_fs_write_all(fd, buf, n, error))
            return FALSE;
        if (!check_budget(c, error))
            return FALSE;
    }
    if (got != want)
        return sp_restore_refuse(c, error, path,
                                 _("size disagrees with the manifest"));
    if (sha256 && strcmp(g_checksum_get_string(sum), sha256) != 0)
        return sp_restore_refuse(c, error, path,
                                 _("sha256 disagrees with the manifest"));
    return TRUE;
}

static gboolean
read_manifest(RestoreCtx *c, SpVtpmManifest **out, GError **error)
{
    struct archive_entry *e = NULL;
    g_autoptr(GByteArray) mem = g_byte_array_new();
    int r = archive_read_next_header(c->a, &e);
    const char *path;
    la_int64_t size;

    if (r == ARCHIVE_EOF) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("archive '%s': empty, no %s"), c->input,
                    SP_VTPM_MANIFEST_NAME);
        return FALSE;
    }
    if (r != ARCHIVE_OK)
        return sp_restore_corrupt(c, error);
    path = archive_entry_pathname(e);
    size = archive_entry_size(e);
    if (g_strcmp0(path, SP_VTPM_MANIFEST_NAME) != 0 ||
        archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("archive '%s': first entry is not %s"), c->input,
                    SP_VTPM_MANIFEST_NAME);
        return FALSE;
    }
    if (size < 0 || size > SP_VTPM_MANIFEST_MAX)
        return sp_restore_refuse(c, error, path,
                                 _("manifest size out of bounds"));
    if (!read_data(c, path, -1, (guint64)size, NULL, mem, error))
        return FALSE;
    *out = sp_vtpm_manifest_parse((const char *)mem->data, mem->len, c->max,
                                  error);
    if (!*out)
        g_prefix_error(error, _("archive '%s': "), c->input);
    return *out != NULL;
}

/* One archive entry after the manifest: type and path checks first, so
 * the refusal names the real reason, then the manifest, then the data. */
static gboolean
unpack_entry(RestoreCtx *c, struct archive_entry *e, GError **error)
{
    const char *raw = archive_entry_pathname(e);
    g_autofree char *path = NULL;
    g_autofree char *parent = NULL;
    g_autofree char *leaf = NULL;
    SpVtpmManifestEntry *me;
    mode_t type = archive_entry_filetype(e);
    g_autofd int pfd = -1;
    g_autofd int fd = -1;

    if (!raw)
        return sp_restore_refuse(c, error, "", _("no path name"));
    if (archive_entry_hardlink(e))
        return sp_restore_refuse(c, error, raw,
                                 _("hard links are not allowed"));
    if (type == AE_IFLNK || archive_entry_symlink(e))
        return sp_restore_refuse(c, error, raw, _("symlinks are not allowed"));
    if (type != AE_IFREG && type != AE_IFDIR)
        return sp_restore_refuse(c, error, raw,
                                 type == AE_IFCHR || type == AE_IFBLK
                                     ? _("device nodes are not allowed")
                                 : type == AE_IFIFO ? _("fifos are not allowed")
                                 : type == AE_IFSOCK
                                     ? _("sockets are not allowed")
                                     : _("unknown entry type"));
    path = g_strdup(raw);
    if (type == AE_IFDIR && g_str_has_suffix(path, "/") && strlen(path) > 1)
        path[strlen(path) - 1] = '\0';
    if (!sp_vtpm_check_relpath(path, error)) {
        g_prefix_error(error, _("archive '%s': "), c->input);
        return FALSE;
    }
    if (type == AE_IFREG && (!archive_entry_size_is_set(e) ||
                             (guint64)archive_entry_size(e) > c->max))
        return sp_restore_refuse(c, error, path,
                                 _("size above the archive limit"));
    me = g_hash_table_lookup(c->m->by_path, path);
    if (!me)
        return sp_restore_refuse(c, error, path,
                                 _("not listed in the manifest"));
    if (me->seen)
        return sp_restore_refuse(c, error, path, _("appears twice"));
    if (me->is_dir != (type == AE_IFDIR))
        return sp_restore_refuse(c, error, path,
                                 _("type disagrees with the manifest"));
    if (type == AE_IFREG && (guint64)archive_entry_size(e) != me->size)
        return sp_restore_refuse(c, error, path,
                                 _("size disagrees with the manifest"));
    me->seen = TRUE;
    /* The manifest lists parents first and we create in archive order:
     * a parent we did not create yet is refused by the open below. */
    parent = g_path_get_dirname(path);
    leaf = g_path_get_basename(path);
    pfd = strcmp(parent, ".") == 0 ? dup(c->tfd)
                                   : sp_fs_open_subdir(c->tfd, parent, error);
    if (pfd < 0) {
        g_clear_error(error);
        return sp_restore_refuse(c, error, path,
                                 _("parent directory not unpacked yet"));
    }
    if (type == AE_IFDIR) {
        if (mkdirat(pfd, leaf, 0700) < 0)
            return sp_error_set_errno(error, errno, "'%s'", path);
        return read_data(c, path, -1, 0, NULL, NULL, error);
    }
    fd = sp_fs_openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL, 0600, error);
    if (fd < 0)
        return FALSE;
    return read_data(c, path, fd, me->size, me->sha256, NULL, error) &&
           sp_vtpm_fsync(fd, path, error);
}

static gboolean
unpack_all(RestoreCtx *c, GError **error)
{
    struct archive_entry *e;
    int r;

    while ((r = archive_read_next_header(c->a, &e)) == ARCHIVE_OK) {
        if (!check_budget(c, error) || !unpack_entry(c, e, error))
            return FALSE;
    }
    if (r != ARCHIVE_EOF)
        return sp_restore_corrupt(c, error);
    for (guint i = 0; i < c->m->entries->len; i++) {
        SpVtpmManifestEntry *me = g_ptr_array_index(c->m->entries, i);

        if (!me->seen)
            return sp_restore_refuse(c, error, me->path,
                                     _("listed in the manifest but missing"));
    }
    return TRUE;
}

typedef struct {
    SpVtpmRoot *root;
    const SpVtpmSpec *spec;
    SpVtpmManifest *m;
    gsize skip;
    gboolean notice;
} ApplyCtx;

/* Owner, mode (the manifest's, within what the policy allows) and label on
 * each unpacked entry, then fsync, so the swap publishes a finished state. */
static gboolean
apply_entry(const SpVtpmEntry *e, gpointer data, GError **error)
{
    ApplyCtx *c = data;
    SpVtpmManifestEntry *me =
        g_hash_table_lookup(c->m->by_path, e->relpath + c->skip);
    g_autofd int fd = sp_vtpm_entry_open(e, error);
    gboolean unsupported = FALSE;
    mode_t mode;

    if (fd < 0)
        return FALSE;
    if (!me) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("'%s': not from the archive"), e->relpath);
        return FALSE;
    }
    mode = sp_vtpm_mode_fix(e->name, (e->st.st_mode & S_IFMT) | me->mode);
    if (!sp_fs_fset_perms(fd, mode, c->spec->uid, c->spec->gid, error))
        return FALSE;
    if (c->spec->label &&
        !sp_label_fd_set(fd, c->spec->label, &unsupported, e->relpath, error))
        return FALSE;
    if (unsupported && !c->notice) {
        sp_vtpm_root_notice(c->root,
                            _("'%s': filesystem has no SELinux "
                              "labels, label '%s' skipped"),
                            c->root->path, c->spec->label);
        c->notice = TRUE;
    }
    return sp_vtpm_fsync(fd, e->relpath, error);
}

static gboolean
agree(SpVtpmSpec *spec, const SpVtpmManifest *m, const char *input,
      GError **error)
{
    if (spec->uuid && strcmp(spec->uuid, m->uuid) != 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("archive '%s': holds the state of uuid '%s', not '%s'"),
                    input, m->uuid, spec->uuid);
        return FALSE;
    }
    if (spec->tpm_dir && strcmp(spec->tpm_dir, m->tpm_dir) != 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("archive '%s': holds a %s state, the domain wants %s"),
                    input, m->tpm_dir, spec->tpm_dir);
        return FALSE;
    }
    if (!spec->uuid)
        spec->uuid = g_strdup(m->uuid);
    if (!spec->tpm_dir)
        spec->tpm_dir = g_strdup(m->tpm_dir);
    return TRUE;
}

/* Steps after the temporary is complete; see docs/vtpm.md. */
static gboolean
swap_in(SpVtpmRoot *root, const SpVtpmSpec *spec, SpFsTmp *t, GError **error)
{
    struct stat st;

    if (fstatat(root->fd, spec->uuid, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!sp_vtpm_check_not_running(root, spec->uuid, spec->tpm_dir,
                                       error) ||
            !sp_fs_tmp_exchange(t, spec->uuid, error))
            return FALSE;
        /* The old state now lives under the temporary name. */
        sp_vtpm_test_abort_point("swap");
        if (!sp_vtpm_fsync(root->fd, root->path, error) ||
            !sp_fs_tmp_discard(t, error))
            return FALSE;
    } else {
        if (!sp_fs_tmp_publish(t, spec->uuid, error))
            return FALSE;
        sp_vtpm_test_abort_point("swap");
    }
    sp_vtpm_test_abort_point("cleanup");
    return sp_vtpm_fsync(root->fd, root->path, error);
}

/* Read the manifest and check it against @spec and the live state. */
static gboolean
restore_begin(SpVtpmRoot *root, SpVtpmSpec *spec, RestoreCtx *c,
              SpVtpmManifest **m, GError **error)
{
    struct stat st;

    if (!read_manifest(c, m, error) || !agree(spec, *m, c->input, error))
        return FALSE;
    /* A running swtpm would keep writing the old state: conflict. */
    if (fstatat(root->fd, spec->uuid, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !sp_vtpm_check_not_running(root, spec->uuid, spec->tpm_dir, error))
        return FALSE;
    return TRUE;
}

/* Owner, mode and label on every unpacked entry, then the <uuid> dir. */
static gboolean
restore_apply(SpVtpmRoot *root, const SpVtpmSpec *spec, SpVtpmManifest *m,
              SpFsTmp *t, GError **error)
{
    ApplyCtx ac = {root, spec, m, strlen(t->name) + 1, FALSE};
    g_autofree char *rel = g_strdup_printf("%s/%s", t->name, spec->tpm_dir);

    return sp_vtpm_walk(t->fd, spec->tpm_dir, rel, apply_entry, &ac, error) &&
           sp_fs_fset_perms(t->fd, 0711, 0, 0, error) &&
           sp_vtpm_fsync(t->fd, t->name, error);
}

gboolean
sp_vtpm_restore(SpVtpmRoot *root, SpVtpmSpec *spec, const SpSecret *tar,
                const char *what, guint64 max, GError **error)
{
    RestoreCtx c = {what, max, NULL, NULL, -1};
    g_autoptr(SpVtpmManifest) m = NULL;
    g_auto(SpFsTmp) t = SP_FS_TMP_INIT;
    gboolean ok;

    c.a = archive_read_new();
    /* tar only (ustar, pax, gnu): no compression filters, no other formats;
     * read from the secret buffer it was unsealed (or read) into. */
    archive_read_support_format_tar(c.a);
    if (archive_read_open_memory(c.a, sp_secret_data(tar),
                                 sp_secret_len(tar)) != ARCHIVE_OK) {
        ok = sp_restore_corrupt(&c, error);
        archive_read_free(c.a);
        return ok;
    }
    ok = restore_begin(root, spec, &c, &m, error) &&
         sp_fs_tmp_dir(&t, root->fd, "restore", error);
    if (ok) {
        c.m = m;
        c.tfd = t.fd;
        ok = unpack_all(&c, error);
    }
    archive_read_free(c.a);
    if (!ok)
        return FALSE;
    sp_vtpm_test_abort_point("unpack");
    if (!restore_apply(root, spec, m, &t, error))
        return FALSE;
    sp_vtpm_test_abort_point("apply");
    return swap_in(root, spec, &t, error);
}
