/* Saving a vTPM state: read every file once through O_NOFOLLOW fds into
 * secret buffers, hash it, then write MANIFEST.json and the files as a pax
 * archive into a secret buffer (sealing or writing it is the caller's). */
#include "vtpm/sp-vtpm-archive.h"

#include <inttypes.h>
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "vtpm/sp-vtpm-manifest.h"
#include "vtpm/sp-vtpm-util.h"

typedef struct {
    SpVtpmManifest *m;
    GPtrArray *data; /* SpSecret per manifest entry (NULL for dirs) */
    guint64 max;
    gsize skip; /* strlen("<uuid>/") */
} SaveCtx;

static gboolean
read_entry(const SpVtpmEntry *e, gpointer data, GError **error)
{
    SaveCtx *c = data;
    const char *rel = e->relpath + c->skip;
    g_autofd int fd = -1;
    struct stat st;
    g_autoptr(SpSecret) buf = NULL;
    gssize n;

    if (!S_ISDIR(e->st.st_mode) && !S_ISREG(e->st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': is a %s; a vTPM state holds only files and "
                      "directories"),
                    e->relpath, sp_vtpm_type_name(e->st.st_mode));
        return FALSE;
    }
    fd = sp_vtpm_entry_open(e, error);
    if (fd < 0)
        return FALSE;
    if (S_ISDIR(e->st.st_mode)) {
        sp_vtpm_manifest_add(c->m, rel, TRUE, e->st.st_mode, 0, NULL);
        g_ptr_array_add(c->data, NULL);
        return TRUE;
    }
    if ((guint64)e->st.st_size > c->max ||
        c->m->total_size + (guint64)e->st.st_size > c->max) {
        g_set_error(
            error, SP_ERROR, SP_ERROR_INVALID,
            _("'%s': state larger than the archive limit of %" PRIu64 " bytes"),
            e->relpath, c->max);
        return FALSE;
    }
    /* One read serves the hash and the archive: they cannot disagree. */
    buf = sp_secret_new_size(e->st.st_size + 1);
    n = sp_fs_pread_full(fd, sp_secret_data_mut(buf), e->st.st_size + 1, 0,
                         error);
    if (n < 0)
        return FALSE;
    if (fstat(fd, &st) < 0)
        return sp_error_set_errno(error, errno, "'%s'", e->relpath);
    if (n != e->st.st_size || st.st_size != e->st.st_size) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("'%s': changed size while being saved"), e->relpath);
        return FALSE;
    }
    sp_vtpm_manifest_add(c->m, rel, FALSE, e->st.st_mode, (guint64)n,
                         g_compute_checksum_for_data(
                             G_CHECKSUM_SHA256, sp_secret_data(buf), (gsize)n));
    g_ptr_array_add(c->data, g_steal_pointer(&buf));
    return TRUE;
}

static gboolean
ar_fail(struct archive *a, const char *output, GError **error)
{
    g_set_error(
        error, SP_ERROR, SP_ERROR_FAILED, _("archive of '%s': %s"), output,
        archive_error_string(a) ? archive_error_string(a) : _("write failed"));
    return FALSE;
}

static la_ssize_t
append_cb(struct archive *a, void *client, const void *buf, size_t len)
{
    sp_secret_append(client, buf, len);
    return (la_ssize_t)len;
}

static gboolean
write_one(struct archive *a, const char *output, const char *path,
          gboolean is_dir, guint32 mode, const void *buf, gsize len,
          GError **error)
{
    struct archive_entry *e = archive_entry_new();
    gboolean ok;

    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, mode & 0777);
    archive_entry_set_size(e, is_dir ? 0 : (la_int64_t)len);
    /* Owner comes from the destination's policy, not the archive. */
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, 0, 0);
    ok = archive_write_header(a, e) == ARCHIVE_OK &&
         (is_dir || len == 0 ||
          archive_write_data(a, buf, len) == (la_ssize_t)len);
    archive_entry_free(e);
    return ok ? TRUE : ar_fail(a, output, error);
}

static gboolean
write_archive(SpSecret *out, const char *output, SaveCtx *c, GError **error)
{
    struct archive *a = archive_write_new();
    g_autofree char *json = NULL;
    gsize jlen = 0;
    gboolean ok;

    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open2(a, out, NULL, append_cb, NULL, NULL) !=
            ARCHIVE_OK) {
        ok = ar_fail(a, output, error);
        archive_write_free(a);
        return ok;
    }
    json = sp_vtpm_manifest_to_json(c->m, &jlen);
    ok = write_one(a, output, SP_VTPM_MANIFEST_NAME, FALSE, 0600, json, jlen,
                   error);
    for (guint i = 0; ok && i < c->m->entries->len; i++) {
        SpVtpmManifestEntry *me = g_ptr_array_index(c->m->entries, i);
        SpSecret *b = g_ptr_array_index(c->data, i);

        ok = write_one(a, output, me->path, me->is_dir, me->mode,
                       b ? sp_secret_data(b) : NULL, me->size, error);
    }
    if (ok && archive_write_close(a) != ARCHIVE_OK)
        ok = ar_fail(a, output, error);
    archive_write_free(a);
    return ok;
}

SpSecret *
sp_vtpm_save(SpVtpmRoot *root, const SpVtpmSpec *spec, guint64 max,
             GError **error)
{
    g_autoptr(SpVtpmManifest) m =
        sp_vtpm_manifest_new(spec->uuid, spec->tpm_dir);
    g_autoptr(GPtrArray) data =
        g_ptr_array_new_with_free_func((GDestroyNotify)sp_secret_free);
    SaveCtx c = {m, data, max, strlen(spec->uuid) + 1};
    g_autofree char *rel = g_strdup_printf("%s/%s", spec->uuid, spec->tpm_dir);
    g_autoptr(SpSecret) out = sp_secret_new_size(0);
    g_autofd int ufd = -1;
    g_autofd int sfd = -1;
    gboolean unsupported;

    if (!sp_vtpm_check_not_running(root, spec->uuid, spec->tpm_dir, error))
        return NULL;
    ufd = sp_fs_open_subdir(root->fd, spec->uuid, error);
    if (ufd < 0)
        return NULL;
    sfd = sp_fs_open_subdir(ufd, spec->tpm_dir, error);
    if (sfd < 0 || !sp_label_fd_get(sfd, &m->source_label, &unsupported, error))
        return NULL;
    m->source_host = g_strdup(g_get_host_name());
    if (!sp_vtpm_walk(ufd, spec->tpm_dir, rel, read_entry, &c, error) ||
        !write_archive(out, rel, &c, error))
        return NULL;
    return g_steal_pointer(&out);
}
