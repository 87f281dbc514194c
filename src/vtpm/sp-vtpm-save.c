/* Saving a vTPM state: read every file once through O_NOFOLLOW fds, hash
 * it, then write MANIFEST.json and the files to a new pax archive. */
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
#include "util/sp-i18n.h"
#include "vtpm/sp-vtpm-manifest.h"
#include "vtpm/sp-vtpm-util.h"

typedef struct {
    SpVtpmManifest *m;
    GPtrArray *data;   /* GBytes per manifest entry (NULL for dirs) */
    guint64 max;
    gsize skip;        /* strlen("<uuid>/") */
} SaveCtx;

static gboolean
read_entry(const SpVtpmEntry *e, gpointer data, GError **error)
{
    SaveCtx *c = data;
    const char *rel = e->relpath + c->skip;
    g_autofd int fd = -1;
    struct stat st;
    g_autofree guint8 *buf = NULL;
    gssize n;

    if (!S_ISDIR(e->st.st_mode) && !S_ISREG(e->st.st_mode)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': is a %s; a vTPM state holds only files and "
                      "directories"), e->relpath,
                    sp_vtpm_type_name(e->st.st_mode));
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
    if ((guint64) e->st.st_size > c->max ||
        c->m->total_size + (guint64) e->st.st_size > c->max) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("'%s': state larger than the archive limit of %" PRIu64
                      " bytes"), e->relpath, c->max);
        return FALSE;
    }
    /* One read serves the hash and the archive: they cannot disagree. */
    buf = g_malloc(e->st.st_size + 1);
    n = sp_fs_pread_full(fd, buf, e->st.st_size + 1, 0, error);
    if (n < 0)
        return FALSE;
    if (fstat(fd, &st) < 0)
        return sp_error_set_errno(error, errno, "'%s'", e->relpath);
    if (n != e->st.st_size || st.st_size != e->st.st_size) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("'%s': changed size while being saved"), e->relpath);
        return FALSE;
    }
    sp_vtpm_manifest_add(c->m, rel, FALSE, e->st.st_mode, (guint64) n,
                         g_compute_checksum_for_data(G_CHECKSUM_SHA256, buf,
                                                     (gsize) n));
    g_ptr_array_add(c->data, g_bytes_new_take(g_steal_pointer(&buf), n));
    return TRUE;
}

static gboolean
ar_fail(struct archive *a, const char *output, GError **error)
{
    g_set_error(error, SP_ERROR, SP_ERROR_FAILED, _("archive '%s': %s"),
                output, archive_error_string(a) ? archive_error_string(a)
                                                : _("write failed"));
    return FALSE;
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
    archive_entry_set_size(e, is_dir ? 0 : (la_int64_t) len);
    /* Owner comes from the destination's policy, not the archive. */
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, 0, 0);
    ok = archive_write_header(a, e) == ARCHIVE_OK &&
         (is_dir || len == 0 ||
          archive_write_data(a, buf, len) == (la_ssize_t) len);
    archive_entry_free(e);
    return ok ? TRUE : ar_fail(a, output, error);
}

static gboolean
write_archive(int fd, const char *output, SaveCtx *c, GError **error)
{
    struct archive *a = archive_write_new();
    g_autofree char *json = NULL;
    gsize jlen = 0;
    gboolean ok;

    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        ok = ar_fail(a, output, error);
        archive_write_free(a);
        return ok;
    }
    json = sp_vtpm_manifest_to_json(c->m, &jlen);
    ok = write_one(a, output, SP_VTPM_MANIFEST_NAME, FALSE, 0600, json, jlen,
                   error);
    for (guint i = 0; ok && i < c->m->entries->len; i++) {
        SpVtpmManifestEntry *me = g_ptr_array_index(c->m->entries, i);
        GBytes *b = g_ptr_array_index(c->data, i);
        gsize len = 0;
        const void *buf = b ? g_bytes_get_data(b, &len) : NULL;

        ok = write_one(a, output, me->path, me->is_dir, me->mode, buf, len,
                       error);
    }
    if (ok && archive_write_close(a) != ARCHIVE_OK)
        ok = ar_fail(a, output, error);
    archive_write_free(a);
    return ok;
}

gboolean
sp_vtpm_save(SpVtpmRoot *root, const SpVtpmSpec *spec, const char *output,
             guint64 max, GError **error)
{
    g_autoptr(SpVtpmManifest) m = sp_vtpm_manifest_new(spec->uuid,
                                                       spec->tpm_dir);
    g_autoptr(GPtrArray) data =
        g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    SaveCtx c = {m, data, max, strlen(spec->uuid) + 1};
    g_autofree char *rel = g_strdup_printf("%s/%s", spec->uuid, spec->tpm_dir);
    g_autofd int ufd = -1;
    g_autofd int sfd = -1;
    g_autofd int out = -1;
    gboolean unsupported;

    if (!sp_vtpm_check_not_running(root, spec->uuid, spec->tpm_dir, error))
        return FALSE;
    ufd = sp_fs_open_subdir(root->fd, spec->uuid, error);
    if (ufd < 0)
        return FALSE;
    sfd = sp_fs_open_subdir(ufd, spec->tpm_dir, error);
    if (sfd < 0 ||
        !sp_label_fd_get(sfd, &m->source_label, &unsupported, error))
        return FALSE;
    m->source_host = g_strdup(g_get_host_name());
    if (!sp_vtpm_walk(ufd, spec->tpm_dir, rel, read_entry, &c, error))
        return FALSE;
    out = open(output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0600);
    if (out < 0)
        return sp_error_set_errno(error, errno, _("archive '%s'"), output);
    if (!write_archive(out, output, &c, error) ||
        !sp_vtpm_fsync(out, output, error)) {
        /* We created it (O_EXCL): removing it cannot hit someone else's. */
        unlink(output);
        return FALSE;
    }
    return TRUE;
}
