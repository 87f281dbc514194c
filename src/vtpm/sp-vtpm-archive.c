/* vTPM archive files and the choice between sealed and plain: what is
 * read is bounded, what is written is new (O_EXCL), and a plain archive
 * is only ever taken when the caller allows it. */
#include "vtpm/sp-vtpm-archive.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "vtpm/sp-vtpm-util.h"

gboolean
sp_vtpm_archive_write(const char *output, const guint8 *data, gsize len,
                      GError **error)
{
    g_autofd int out = open(
        output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (out < 0)
        return sp_error_set_errno(error, errno, _("archive '%s'"), output);
    if (!sp_fs_write_all(out, data, len, error) ||
        !sp_vtpm_fsync(out, output, error)) {
        g_prefix_error(error, _("archive '%s': "), output);
        /* We created it (O_EXCL): removing it cannot hit someone else's. */
        unlink(output);
        return FALSE;
    }
    return TRUE;
}

GBytes *
sp_vtpm_archive_read(const char *input, guint64 max, GError **error)
{
    guint64 limit = sp_vtpm_sealed_max(max + SP_VTPM_ARCHIVE_SLACK);
    gsize len = 0;
    char *data;

    if (limit > G_MAXSIZE - 1)
        limit = G_MAXSIZE - 1;
    data = sp_fs_read_input(input, _("archive"), (gsize)limit, &len, error);
    return data ? g_bytes_new_take(data, len) : NULL;
}

SpSecret *
sp_vtpm_archive_open(const guint8 *data, gsize len, const char *what,
                     const SpVtpmKey *key, gboolean allow_plain, guint64 max,
                     GError **error)
{
    if (sp_vtpm_is_sealed(data, len)) {
        if (!key) {
            g_set_error(error, SP_ERROR, SP_ERROR_USAGE,
                        _("archive '%s': is sealed; give --key-file, "
                          "--key-fd, --passphrase-file, --passphrase-fd or "
                          "--secret"),
                        what);
            return NULL;
        }
        return sp_vtpm_unseal(key, data, len, max + SP_VTPM_ARCHIVE_SLACK, what,
                              error);
    }
    if (!allow_plain) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("archive '%s': not a sealed archive (a plain archive "
                      "is restored only with --allow-plain)"),
                    what);
        return NULL;
    }
    return sp_secret_new(data, len);
}
