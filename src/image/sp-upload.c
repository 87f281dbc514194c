/* Upload on top of the pool API (see sp-upload.h). */
#include "image/sp-upload.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/sp-pool-private.h"
#include "inspect/sp-inspect.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-fs-tmp.h"
#include "util/sp-i18n.h"
#include "util/sp-lock.h"

struct SpUpload {
    SpPool *pool;
    char *name;
    SpLock *lock;
    SpFsTmp tmp;
};

SpUpload *
sp_upload_begin(SpPool *pool, const char *name, GError **error)
{
    g_autoptr(SpUpload) u = g_new0(SpUpload, 1);
    g_autoptr(SpVolInfo) info = NULL;

    u->tmp = (SpFsTmp)SP_FS_TMP_INIT;
    if (!sp_volume_check_name(name, error))
        return NULL;
    u->pool = pool;
    u->name = g_strdup(name);
    if (!(u->lock = sp_lock_acquire(sp_pool_fd(pool), name, TRUE, error)))
        return NULL;
    /* the volume must exist and be one of safepool's */
    if (!(info = sp_pool_info(pool, name, error)))
        return NULL;
    if (!info->recorded) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': no recorded format (not created by "
                      "safepool; see 'safepool vol-adopt')"),
                    name);
        return NULL;
    }
    if (!sp_fs_tmp_file(&u->tmp, sp_pool_fd(pool), "upload", error))
        return NULL;
    return g_steal_pointer(&u);
}

int
sp_upload_fd(const SpUpload *u)
{
    return u->tmp.fd;
}

const char *
sp_upload_name(const SpUpload *u)
{
    return u->name;
}

const char *
sp_upload_tmpname(const SpUpload *u)
{
    return u->tmp.name;
}

/* The common cloud-image mistake (a default raw volume, then a qcow2
 * upload) gets the way out in its message. */
static void
sp_upload_explain_mismatch(int fd, const SpVolume *vol, GError *error)
{
    g_autoptr(SpInspectResult) r = NULL;
    g_autofree char *old = NULL;

    if (!error || !g_error_matches(error, SP_ERROR, SP_ERROR_FORMAT_MISMATCH))
        return;
    r = sp_inspect_fd(fd, SP_FORMAT_UNKNOWN, NULL, NULL);
    if (!r || r->format == SP_FORMAT_UNKNOWN)
        return;
    old = error->message;
    error->message = g_strdup_printf(
        _("%s; the upload is a %s image, the volume was created as %s: "
          "create the volume with <format type='%s'/> and upload again (the "
          "format a volume was created with never changes)"),
        old, sp_format_to_string(r->format),
        sp_format_to_string(sp_volume_image_format(vol)),
        sp_format_to_string(r->format));
}

/* The uploaded image against the record: what it is and what it names. */
static gboolean
sp_upload_check(SpUpload *u, const SpVolume *vol, gboolean *has_backing,
                GError **error)
{
    g_autofree char *what =
        g_strdup_printf(_("upload into volume '%s'"), u->name);
    g_autoptr(SpInspectResult) r = NULL;

    if (!sp_pool_check_image(u->pool, u->tmp.fd, vol, what, &r, NULL, error)) {
        sp_upload_explain_mismatch(u->tmp.fd, vol, error ? *error : NULL);
        return FALSE;
    }
    *has_backing = r->backing_name != NULL;
    return TRUE;
}

gboolean
sp_upload_commit(SpUpload *u, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), u->name);
    g_autoptr(SpIdentity) id = NULL;
    g_autoptr(SpVolume) vol = NULL;
    g_autofd int old = -1;
    gboolean has_backing = FALSE;
    struct stat st;

    if (fdatasync(u->tmp.fd) < 0)
        return sp_error_set_errno(error, errno, _("upload into volume '%s'"),
                                  u->name);
    if ((old = sp_pool_open_volume(u->pool, u->name, O_RDONLY, &st, error)) <
            0 ||
        !(vol = sp_pool_read_volume(u->pool, u->name, old, &st, error)) ||
        !(id = sp_identity_read(old, SP_IDENTITY_ALL, error)) ||
        !sp_upload_check(u, vol, &has_backing, error))
        return FALSE;
    /* Record what is published: a standalone image drops the old backing
     * store from the record (and then no longer holds it in use). */
    if (vol->backing_path && !has_backing) {
        g_autofree char *path =
            g_build_filename(sp_pool_path(u->pool), u->name, NULL);
        g_autofree char *xml = NULL;

        g_clear_pointer(&vol->backing_path, g_free);
        vol->backing_format = SP_FORMAT_UNKNOWN;
        xml = sp_volume_to_xml(vol, path);
        sp_identity_set(id, SP_ID_BACKING, NULL);
        sp_identity_set(id, SP_ID_BACKING_FORMAT, NULL);
        sp_identity_set(id, SP_ID_DEFINITION, xml);
    }
    return sp_identity_apply(id, u->tmp.fd, what, error) &&
           sp_fs_tmp_exchange(&u->tmp, u->name, error);
}

void
sp_upload_free(SpUpload *u)
{
    if (!u)
        return;
    /* After a commit the hidden name holds the old content. */
    sp_fs_tmp_clear(&u->tmp);
    g_clear_pointer(&u->lock, sp_lock_release);
    g_free(u->name);
    g_free(u);
}
