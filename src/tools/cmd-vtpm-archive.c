/* `safepool vtpm save|restore`: the key (a file, an fd, a passphrase, a
 * libvirt secret), sealing, and the archive's way to and from a file or a
 * volume of the daemon at --connect. */
#include "tools/cmd-vtpm.h"

#include <fcntl.h>
#include <unistd.h>

#include "tools/cmd-vtpm-volume.h"
#include "util/sp-fs.h"

gboolean
sp_vtpm_cli_needs_rw(const VtpmOpts *o)
{
    return o->to_volume || o->from_volume || o->secret;
}

static guint
count_keys(const VtpmOpts *o)
{
    return (o->key_file != NULL) + (o->key_fd >= 0) +
           (o->passphrase_file != NULL) + (o->passphrase_fd >= 0) +
           (o->secret != NULL);
}

const char *
sp_vtpm_cli_archive_usage(const char *sub, const VtpmOpts *o)
{
    gboolean save = g_str_equal(sub, "save");
    gboolean restore = g_str_equal(sub, "restore");
    guint keys = count_keys(o);

    if (!save && !restore)
        return keys || o->to_volume || o->from_volume || o->no_encrypt ||
                       o->allow_plain || o->keep_volume || o->output || o->input
                   ? _("archive and key options are for save and restore")
                   : NULL;
    if (keys > 1)
        return _("give one key: --key-file, --key-fd, --passphrase-file, "
                 "--passphrase-fd or --secret");
    if ((o->secret || o->to_volume || o->from_volume) && !o->connect)
        return _("--secret, --to-volume and --from-volume need --connect");
    if (save &&
        (o->input || o->from_volume || o->allow_plain || o->keep_volume))
        return _("--input, --from-volume, --allow-plain and --keep-volume "
                 "are for restore");
    if (restore && (o->output || o->to_volume || o->no_encrypt))
        return _("--output, --to-volume and --no-encrypt are for save");
    if (save && !o->output == !o->to_volume)
        return _("give --output ARCHIVE or --to-volume POOL/NAME");
    if (restore && !o->input == !o->from_volume)
        return _("give --input ARCHIVE or --from-volume POOL/NAME");
    if (save && !keys && !o->no_encrypt)
        return _("a key is needed: --key-file, --key-fd, --passphrase-file, "
                 "--passphrase-fd or --secret (--no-encrypt writes a plain "
                 "archive)");
    if (save && keys && o->no_encrypt)
        return _("--no-encrypt and a key exclude each other");
    if (o->keep_volume && !o->from_volume)
        return _("--keep-volume needs --from-volume");
    return NULL;
}

/* A key the CLI was handed as an fd: read to its end, then closed, so
 * nothing started later inherits it. */
static SpSecret *
secret_from_fd(int fd, const char *opt, gboolean text, GError **error)
{
    g_autofree char *what = g_strdup_printf("%s %d", opt, fd);
    SpSecret *s;

    if (fcntl(fd, F_GETFD) < 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_USAGE,
                    _("%s: not an open file descriptor"), what);
        return NULL;
    }
    s = sp_secret_new_from_fd(fd, what, text, error);
    close(fd);
    return s;
}

static SpSecret *
secret_from_file(const char *path, const char *kind, gboolean text,
                 GError **error)
{
    g_autofree char *what = g_strdup_printf("%s '%s'", kind, path);
    g_autofd int fd = sp_fs_open_input(path, kind, error);

    return fd < 0 ? NULL : sp_secret_new_from_fd(fd, what, text, error);
}

/* The one key given (NULL without one, error unset). Argon2id parameters
 * come from the policy. */
static gboolean
load_key(VtpmCtx *c, GError **error)
{
    const VtpmOpts *o = c->o;
    SpVtpmKeyKind kind = SP_VTPM_KEY_RAW;
    g_autofree char *source = NULL;
    SpSecret *s = NULL;

    if (o->key_file) {
        source = g_strdup_printf(_("key file '%s'"), o->key_file);
        s = secret_from_file(o->key_file, _("key file"), FALSE, error);
    } else if (o->key_fd >= 0) {
        source = g_strdup_printf("--key-fd %d", o->key_fd);
        s = secret_from_fd(o->key_fd, "--key-fd", FALSE, error);
    } else if (o->passphrase_file) {
        kind = SP_VTPM_KEY_PASSPHRASE;
        source = g_strdup_printf(_("passphrase file '%s'"), o->passphrase_file);
        s = secret_from_file(o->passphrase_file, _("passphrase file"), TRUE,
                             error);
    } else if (o->passphrase_fd >= 0) {
        kind = SP_VTPM_KEY_PASSPHRASE;
        source = g_strdup_printf("--passphrase-fd %d", o->passphrase_fd);
        s = secret_from_fd(o->passphrase_fd, "--passphrase-fd", TRUE, error);
    } else if (o->secret) {
        source = g_strdup_printf(_("secret '%s'"), o->secret);
        s = sp_vtpm_secret_value(c->vd->conn, o->secret, error);
    } else {
        return TRUE;
    }
    if (!s || !(c->key = sp_vtpm_key_new(kind, s, source, error)))
        return FALSE;
    c->key->memory = c->policy->vtpm_argon2_memory;
    c->key->iterations = c->policy->vtpm_argon2_iterations;
    c->key->max_memory = c->policy->vtpm_argon2_max_memory;
    c->key->max_iterations = c->policy->vtpm_argon2_max_iterations;
    return TRUE;
}

static gboolean
check_plain_allowed(VtpmCtx *c, GError **error)
{
    if ((c->o->no_encrypt || c->o->allow_plain) &&
        c->policy->vtpm_require_sealed) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: the policy requires sealed archives ([vtpm] "
                      "require_sealed=true)"),
                    c->o->no_encrypt ? "--no-encrypt" : "--allow-plain");
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_vtpm_cli_prepare_save(VtpmCtx *c, GError **error)
{
    return check_plain_allowed(c, error) && load_key(c, error);
}

gboolean
sp_vtpm_cli_prepare_restore(VtpmCtx *c, GError **error)
{
    guint64 max = c->policy->vtpm_archive_max;
    g_autoptr(GBytes) data = NULL;
    const guint8 *p;
    gsize len = 0;

    if (!check_plain_allowed(c, error) || !load_key(c, error))
        return FALSE;
    c->archive = c->o->from_volume ? c->o->from_volume : c->o->input;
    if (c->o->from_volume) {
        SpCliProgress meter;

        data = sp_vtpm_volume_download(
            c->vd->conn, c->o->from_volume,
            sp_vtpm_sealed_max(max + SP_VTPM_ARCHIVE_SLACK),
            sp_cli_progress_start(c->cli, &meter, c->o->from_volume), error);
        sp_cli_progress_end(&meter);
    } else {
        SpCliProgress meter;
        const SpProgress *pr =
            sp_cli_progress_start(c->cli, &meter, c->o->input);

        data = sp_vtpm_archive_read(c->o->input, max, error);
        if (data)
            sp_progress_report(pr, g_bytes_get_size(data),
                               g_bytes_get_size(data));
        sp_cli_progress_end(&meter);
    }
    if (!data)
        return FALSE;
    p = g_bytes_get_data(data, &len);
    c->sealed = sp_vtpm_is_sealed(p, len);
    c->tar = sp_vtpm_archive_open(p, len, c->archive, c->key, c->o->allow_plain,
                                  max, error);
    g_clear_pointer(&c->key, sp_vtpm_key_free);
    if (!c->tar)
        return FALSE;
    sp_vtpm_test_abort_point("unsealed");
    return TRUE;
}

gboolean
sp_vtpm_cli_save(VtpmCtx *c, GError **error)
{
    g_autoptr(SpSecret) tar = NULL;
    g_autoptr(GBytes) sealed = NULL;
    const guint8 *data;
    gsize len = 0;

    if (!sp_vtpm_cli_find_dir(c, error) ||
        !(tar = sp_vtpm_save(c->root, c->spec, c->policy->vtpm_archive_max,
                             error)))
        return FALSE;
    if (c->key) {
        sealed = sp_vtpm_seal(c->key, sp_secret_data(tar), sp_secret_len(tar),
                              SP_VTPM_SEAL_CHUNK, &c->key_id, error);
        g_clear_pointer(&c->key, sp_vtpm_key_free);
        g_clear_pointer(&tar, sp_secret_free);
        if (!sealed)
            return FALSE;
        c->sealed = TRUE;
        data = g_bytes_get_data(sealed, &len);
    } else {
        data = sp_secret_data(tar);
        len = sp_secret_len(tar);
    }
    sp_vtpm_test_abort_point("sealed");
    if (c->o->to_volume) {
        SpCliProgress meter;
        gboolean ok;

        c->archive = c->o->to_volume;
        ok = sp_vtpm_volume_upload(
            c->vd->conn, c->o->to_volume, data, len,
            sp_cli_progress_start(c->cli, &meter, c->o->to_volume), error);
        sp_cli_progress_end(&meter);
        return ok;
    }
    c->archive = c->o->output;
    {
        SpCliProgress meter;
        const SpProgress *pr =
            sp_cli_progress_start(c->cli, &meter, c->o->output);
        gboolean ok = sp_vtpm_archive_write(c->o->output, data, len, error);

        /* one write of a small archive: the meter shows it done */
        if (ok)
            sp_progress_report(pr, len, len);
        sp_cli_progress_end(&meter);
        return ok;
    }
}

gboolean
sp_vtpm_cli_restore(VtpmCtx *c, GError **error)
{
    if (!sp_vtpm_cli_refuse_running(c, error) ||
        !sp_vtpm_restore(c->root, c->spec, c->tar, c->archive,
                         c->policy->vtpm_archive_max, error))
        return FALSE;
    g_clear_pointer(&c->tar, sp_secret_free);
    /* Only once the state is in place: a refused archive keeps its
     * volume, to be tried again with the right key. */
    if (c->o->from_volume && !c->o->keep_volume &&
        !sp_vtpm_volume_remove(c->vd->conn, c->o->from_volume, error)) {
        g_prefix_error(error, _("state restored, but "));
        return FALSE;
    }
    return TRUE;
}
