/* vTPM archives through libvirt's storage API: the daemon at --connect
 * (local or remote: qemu+tcp, qemu+tls, qemu+ssh) authenticates the
 * caller and carries the bytes; nothing is written to a file on either
 * side but the volume itself. */
#include "tools/cmd-vtpm-volume.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/sp-cli.h"
#include "tools/sp-virt.h"
#include "vtpm/sp-vtpm.h"

#define IO_CHUNK (256 * 1024)

typedef struct {
    virStoragePoolPtr pool;
    virStorageVolPtr vol;
    virStreamPtr st;
    char *pool_name;
    char *vol_name;
} VolRef;

static void
vol_ref_clear(VolRef *r)
{
    if (r->st)
        sp_virt.StreamFree(r->st);
    if (r->vol)
        sp_virt.StorageVolFree(r->vol);
    if (r->pool)
        sp_virt.StoragePoolFree(r->pool);
    g_free(r->pool_name);
    g_free(r->vol_name);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VolRef, vol_ref_clear)

/* sp_virt_error for functions that return a pointer. */
static gpointer
virt_null(const char *what, GError **error)
{
    sp_virt_error(what, error);
    return NULL;
}

/* "POOL/NAME": both parts non-empty, one '/'; the daemon checks the rest. */
static gboolean
vol_open_pool(virConnectPtr conn, const char *spec, VolRef *r, GError **error)
{
    const char *slash = strchr(spec, '/');
    g_autofree char *what = NULL;

    if (!slash || slash == spec || !slash[1] || strchr(slash + 1, '/')) {
        g_set_error(error, SP_ERROR, SP_ERROR_USAGE,
                    _("volume '%s': give it as POOL/NAME"), spec);
        return FALSE;
    }
    r->pool_name = g_strndup(spec, slash - spec);
    r->vol_name = g_strdup(slash + 1);
    r->pool = sp_virt.StoragePoolLookupByName(conn, r->pool_name);
    if (!r->pool) {
        what = g_strdup_printf(_("pool '%s'"), r->pool_name);
        return sp_virt_error(what, error);
    }
    return TRUE;
}

static gboolean
vol_lookup(virConnectPtr conn, const char *spec, VolRef *r, GError **error)
{
    g_autofree char *what = NULL;

    if (!vol_open_pool(conn, spec, r, error))
        return FALSE;
    r->vol = sp_virt.StorageVolLookupByName(r->pool, r->vol_name);
    if (!r->vol) {
        what = g_strdup_printf(_("volume '%s'"), spec);
        return sp_virt_error(what, error);
    }
    return TRUE;
}

/* Stream all of @data into the volume; every failure aborts the stream,
 * so the daemon keeps nothing of a half upload. */
static gboolean
upload_stream(virConnectPtr conn, VolRef *r, const guint8 *data, gsize len,
              const char *spec, const SpProgress *progress, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("volume '%s': upload"), spec);
    gsize off = 0;

    r->st = sp_virt.StreamNew(conn, 0);
    if (!r->st)
        return sp_virt_error(what, error);
    /* the whole volume (length 0), which was made exactly @len bytes:
     * a backend may refuse partial uploads (safepool's does) */
    if (sp_virt.StorageVolUpload(r->vol, r->st, 0, 0, 0) < 0)
        return sp_virt_error(what, error);
    while (off < len) {
        int n = sp_virt.StreamSend(r->st, (const char *)data + off,
                                   MIN(len - off, IO_CHUNK));

        if (n <= 0) {
            sp_virt_error(what, error);
            sp_virt.StreamAbort(r->st);
            return FALSE;
        }
        off += (gsize)n;
        sp_progress_report(progress, off, len);
    }
    if (sp_virt.StreamFinish(r->st) < 0) {
        sp_virt_error(what, error);
        sp_virt.StreamAbort(r->st);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_vtpm_volume_upload(virConnectPtr conn, const char *spec, const guint8 *data,
                      gsize len, const SpProgress *progress, GError **error)
{
    g_auto(VolRef) r = {0};
    g_autofree char *name = NULL, *xml = NULL, *what = NULL;
    g_autoptr(GError) failed = NULL;

    if (!vol_open_pool(conn, spec, &r, error))
        return FALSE;
    /* Raw bytes, no <format>: what every pool type that takes uploads
     * (dir, rbd, ...) makes by default. Never overwritten: a volume of
     * that name is a conflict. */
    name = g_markup_escape_text(r.vol_name, -1);
    xml = g_strdup_printf("<volume><name>%s</name>"
                          "<capacity unit='bytes'>%zu</capacity></volume>",
                          name, len);
    r.vol = sp_virt.StorageVolCreateXML(r.pool, xml, 0);
    if (!r.vol) {
        what = g_strdup_printf(_("volume '%s'"), spec);
        return sp_virt_error(what, error);
    }
    sp_vtpm_test_abort_point("volume-created");
    if (upload_stream(conn, &r, data, len, spec, progress, &failed))
        return TRUE;
    if (sp_virt.StorageVolDelete(r.vol, 0) == 0) {
        what = g_strdup(_("the volume was deleted again"));
    } else {
        virErrorPtr e = sp_virt.GetLastError();

        what = g_strdup_printf(_("the volume is left behind, delete it: %s"),
                               e && e->message ? e->message : "?");
    }
    g_set_error(error, failed->domain, failed->code, "%s; %s", failed->message,
                what);
    return FALSE;
}

GBytes *
sp_vtpm_volume_download(virConnectPtr conn, const char *spec, guint64 max,
                        const SpProgress *progress, GError **error)
{
    g_auto(VolRef) r = {0};
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), spec);
    g_autoptr(GByteArray) buf = NULL;
    virStorageVolInfo info;

    if (!vol_lookup(conn, spec, &r, error))
        return NULL;
    if (sp_virt.StorageVolGetInfo(r.vol, &info) < 0)
        return virt_null(what, error);
    if (info.capacity > max) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': %llu bytes, more than an archive of the "
                      "policy's archive_max_size can be (%" PRIu64 ")"),
                    spec, info.capacity, max);
        return NULL;
    }
    r.st = sp_virt.StreamNew(conn, 0);
    if (!r.st || sp_virt.StorageVolDownload(r.vol, r.st, 0, 0, 0) < 0)
        return virt_null(what, error);
    buf = g_byte_array_sized_new((guint)info.capacity);
    for (;;) {
        char chunk[65536];
        int n = sp_virt.StreamRecv(r.st, chunk, sizeof chunk);

        if (n < 0) {
            sp_virt_error(what, error);
            sp_virt.StreamAbort(r.st);
            return NULL;
        }
        if (n == 0)
            break;
        if (buf->len + (guint64)n > max) {
            sp_virt.StreamAbort(r.st);
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume '%s': more than %" PRIu64 " bytes"), spec,
                        max);
            return NULL;
        }
        g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
        sp_progress_report(progress, buf->len, info.capacity);
    }
    if (sp_virt.StreamFinish(r.st) < 0)
        return virt_null(what, error);
    return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

gboolean
sp_vtpm_volume_remove(virConnectPtr conn, const char *spec, GError **error)
{
    g_auto(VolRef) r = {0};
    g_autofree char *what = NULL;

    if (!vol_lookup(conn, spec, &r, error))
        return FALSE;
    if (sp_virt.StorageVolWipe(r.vol, 0) < 0) {
        what = g_strdup_printf(_("volume '%s': wipe"), spec);
        return sp_virt_error(what, error);
    }
    if (sp_virt.StorageVolDelete(r.vol, 0) < 0) {
        what = g_strdup_printf(_("volume '%s': delete"), spec);
        return sp_virt_error(what, error);
    }
    return TRUE;
}

SpSecret *
sp_vtpm_secret_value(virConnectPtr conn, const char *uuid, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("secret '%s'"), uuid);
    virSecretPtr sec = sp_virt.SecretLookupByUUIDString(conn, uuid);
    unsigned char *value;
    size_t len = 0;
    SpSecret *s;

    if (!sec)
        return virt_null(what, error);
    value = sp_virt.SecretGetValue(sec, &len, 0);
    sp_virt.SecretFree(sec);
    if (!value)
        return virt_null(what, error);
    /* libvirt's buffer is plain heap: copied to locked memory, wiped. */
    s = sp_secret_new(value, len);
    explicit_bzero(value, len);
    free(value);
    return s;
}
