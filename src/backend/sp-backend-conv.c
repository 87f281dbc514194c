/* libvirt volume definitions <-> safepool structs, and LUKS secrets from
 * libvirt's secret driver. A libvirt update means re-checking this file. */
#include "backend/sp-backend.h"

#include "datatypes.h"
#include "driver.h"
#include "viridentity.h"
#include "virerror.h"
#include "virsecret.h"
#include "viruuid.h"
#include "virbitmap.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

/* (virStorageEncryptionFormatTypeToString is not exported by libvirt.so) */
static const char *
sp_encryption_format_name(int format)
{
    switch (format) {
    case VIR_STORAGE_ENCRYPTION_FORMAT_DEFAULT:
        return "default";
    case VIR_STORAGE_ENCRYPTION_FORMAT_QCOW:
        return "qcow";
    case VIR_STORAGE_ENCRYPTION_FORMAT_LUKS:
        return "luks";
    case VIR_STORAGE_ENCRYPTION_FORMAT_LUKS2:
        return "luks2";
    }
    return "unknown";
}

static SpFormat
sp_format_from_libvirt(int format)
{
    const char *name;

    if (format <= VIR_STORAGE_FILE_NONE)
        return SP_FORMAT_UNKNOWN;
    name = virStorageFileFormatTypeToString(format);
    return name ? sp_format_from_string(name) : SP_FORMAT_UNKNOWN;
}

/* A file with no recorded format is libvirt's "none", never raw: a client
 * that took it for raw would hand a qcow2's header to a guest as data. */
static int
sp_format_to_libvirt(SpFormat format)
{
    int f;

    /* LUKS is raw + <encryption format='luks'> in libvirt's model */
    if (format == SP_FORMAT_LUKS)
        return VIR_STORAGE_FILE_RAW;
    if (format == SP_FORMAT_UNKNOWN)
        return VIR_STORAGE_FILE_NONE;
    f = virStorageFileFormatTypeFromString(sp_format_to_string(format));
    return f > 0 ? f : VIR_STORAGE_FILE_NONE;
}

SpVolume *
sp_backend_volume_from_def(const virStorageVolDef *def, GError **error)
{
    g_autoptr(SpVolume) v = sp_volume_new();
    const virStorageSource *t = &def->target;
    const virStorageEncryption *enc = t->encryption;

    v->name = g_strdup(def->name);
    /* libvirt requires <capacity> (a clone inherits the source's); without
     * <allocation> it means fully allocated (libvirt already set it to the
     * capacity), which an absent allocation means to the planner too. */
    v->has_capacity = TRUE;
    v->capacity = t->capacity;
    v->has_allocation = t->has_allocation;
    v->allocation = t->allocation;
    if (t->format == VIR_STORAGE_FILE_NONE ||
        t->format == VIR_STORAGE_FILE_RAW) {
        v->format = SP_FORMAT_RAW;
    } else {
        v->format = sp_format_from_libvirt(t->format);
        if (v->format == SP_FORMAT_UNKNOWN) {
            sp_set_error_element(
                error, SP_ERROR_INVALID, "target/format",
                _("volume XML element 'target/format': format '%s' is not "
                  "supported by safepool"),
                NULLSTR(virStorageFileFormatTypeToString(t->format)));
            return NULL;
        }
    }
    if (t->perms) {
        if (t->perms->mode != (mode_t)-1) {
            v->has_mode = TRUE;
            v->mode = t->perms->mode;
        }
        v->owner = t->perms->uid == (uid_t)-1 ? -1 : (gint64)t->perms->uid;
        v->group = t->perms->gid == (gid_t)-1 ? -1 : (gint64)t->perms->gid;
        v->label = g_strdup(t->perms->label);
    }
    if (enc) {
        v->encryption.enabled = TRUE;
        v->encryption.format = g_strdup(sp_encryption_format_name(enc->format));
        v->encryption.n_secrets = enc->nsecrets;
        if (enc->nsecrets > 0 && enc->secrets[0]) {
            const virSecretLookupTypeDef *l = &enc->secrets[0]->seclookupdef;

            if (l->type == VIR_SECRET_LOOKUP_TYPE_UUID) {
                char uuid[VIR_UUID_STRING_BUFLEN];

                virUUIDFormat(l->u.uuid, uuid);
                v->encryption.secret_uuid = g_strdup(uuid);
            } else if (l->type == VIR_SECRET_LOOKUP_TYPE_USAGE) {
                v->encryption.secret_usage = g_strdup(l->u.usage);
            }
        }
        v->encryption.cipher_name = g_strdup(enc->encinfo.cipher_name);
        v->encryption.cipher_size = enc->encinfo.cipher_size;
        v->encryption.cipher_mode = g_strdup(enc->encinfo.cipher_mode);
        v->encryption.cipher_hash = g_strdup(enc->encinfo.cipher_hash);
        v->encryption.ivgen_name = g_strdup(enc->encinfo.ivgen_name);
        v->encryption.ivgen_hash = g_strdup(enc->encinfo.ivgen_hash);
    }
    v->compat = g_strdup(t->compat);
    if (t->features) {
        v->lazy_refcounts = virBitmapIsBitSet(
            t->features, VIR_STORAGE_FILE_FEATURE_LAZY_REFCOUNTS);
        v->extended_l2 = virBitmapIsBitSet(
            t->features, VIR_STORAGE_FILE_FEATURE_EXTENDED_L2);
    }
    v->cluster_size = t->clusterSize;
    v->nocow = t->nocow;
    if (t->backingStore && t->backingStore->path) {
        v->backing_path = g_strdup(t->backingStore->path);
        v->backing_format = sp_format_from_libvirt(t->backingStore->format);
    }
    return g_steal_pointer(&v);
}

void
sp_backend_def_fill(virStorageVolDef *def, const SpVolInfo *info,
                    const char *pool_path)
{
    virStorageSource *t = &def->target;

    def->type = VIR_STORAGE_VOL_FILE;
    /* libvirt prints a <backingStore> only for a target of a known type. */
    t->type = VIR_STORAGE_TYPE_FILE;
    if (!t->path)
        t->path = g_build_filename(pool_path, info->name, NULL);
    if (!def->key)
        def->key = g_strdup(t->path);
    t->format = sp_format_to_libvirt(info->format);
    t->capacity = info->capacity;
    t->allocation = info->allocation;
    t->physical = info->allocation;
    if (!t->perms)
        t->perms = g_new0(virStoragePerms, 1);
    t->perms->mode = info->mode & 07777;
    t->perms->uid = info->owner;
    t->perms->gid = info->group;
    if (info->encrypted) {
        if (!t->encryption) {
            t->encryption = g_new0(virStorageEncryption, 1);
            t->encryption->format = VIR_STORAGE_ENCRYPTION_FORMAT_LUKS;
        }
        /* After a refresh (libvirtd restart) libvirt knows the volume only
         * from us: give back the secret it was created with, or resize and
         * clone could not fetch the passphrase. */
        if (t->encryption->nsecrets == 0 &&
            (info->secret_uuid || info->secret_usage)) {
            virStorageEncryptionSecret *sec =
                g_new0(virStorageEncryptionSecret, 1);

            sec->type = VIR_STORAGE_ENCRYPTION_SECRET_TYPE_PASSPHRASE;
            if (info->secret_uuid &&
                virUUIDParse(info->secret_uuid, sec->seclookupdef.u.uuid) ==
                    0) {
                sec->seclookupdef.type = VIR_SECRET_LOOKUP_TYPE_UUID;
            } else {
                sec->seclookupdef.type = VIR_SECRET_LOOKUP_TYPE_USAGE;
                sec->seclookupdef.u.usage = g_strdup(info->secret_usage);
            }
            if (sec->seclookupdef.type == VIR_SECRET_LOOKUP_TYPE_USAGE &&
                !sec->seclookupdef.u.usage) {
                g_free(sec);
            } else {
                t->encryption->secrets =
                    g_new0(virStorageEncryptionSecret *, 1);
                t->encryption->secrets[0] = sec;
                t->encryption->nsecrets = 1;
            }
        }
    }
    if (info->backing_path) {
        if (!t->backingStore)
            t->backingStore = virStorageSourceNew();
        g_free(t->backingStore->path);
        t->backingStore->path = g_strdup(info->backing_path);
        t->backingStore->type = VIR_STORAGE_TYPE_FILE;
        t->backingStore->format = sp_format_to_libvirt(info->backing_format);
    }
}

gboolean
sp_backend_secret_fetch(const virSecretLookupTypeDef *lookup, int usage,
                        gboolean base64, const char *element, SpSecret **secret,
                        GError **error)
{
    VIR_IDENTITY_AUTORESTORE virIdentity *oldident = NULL;
    g_autoptr(virIdentity) current = virIdentityGetCurrent();
    g_autoptr(virIdentity) sys = NULL;
    g_autoptr(virConnect) conn = NULL;
    g_autofree uint8_t *data = NULL;
    size_t len = 0;
    virErrorPtr err;
    gboolean ok;

    /* as storage_util.c does: the storage driver asks the secret driver
     * with its own (elevated) identity. A daemon thread with no client
     * behind it (the pool refresh after an upload) has no identity to
     * elevate: it acts as the daemon itself. */
    if (!current)
        ok = (sys = virIdentityGetSystem()) && virIdentitySetCurrent(sys) == 0;
    else
        ok = (oldident = virIdentityElevateCurrent()) != NULL;
    if (ok)
        ok = (conn = virGetConnectSecret()) &&
             virSecretGetSecretString(conn, (virSecretLookupTypeDef *)lookup,
                                      usage, &data, &len) == 0;
    if (!current)
        virIdentitySetCurrent(NULL);
    if (!ok) {
        err = virGetLastError();
        sp_set_error_element(
            error, SP_ERROR_INVALID, element, _("%s: %s"), element,
            err && err->message ? err->message : _("secret not available"));
        virResetLastError();
        return FALSE;
    }
    *secret =
        base64 ? sp_secret_new_base64(data, len) : sp_secret_new(data, len);
    explicit_bzero(data, len);
    return TRUE;
}

gboolean
sp_backend_secret(const virStorageEncryption *enc, SpSecret **secret,
                  GError **error)
{
    *secret = NULL;
    if (!enc)
        return TRUE;
    if (enc->nsecrets != 1 || !enc->secrets[0]) {
        sp_set_error_element(error, SP_ERROR_INVALID,
                             "target/encryption/secret",
                             _("volume XML element 'target/encryption/secret': "
                               "exactly one <secret type='passphrase'> is "
                               "needed, %zu given"),
                             enc->nsecrets);
        return FALSE;
    }
    return sp_backend_secret_fetch(
        &enc->secrets[0]->seclookupdef, VIR_SECRET_USAGE_TYPE_VOLUME, FALSE,
        _("volume XML element 'target/encryption/secret'"), secret, error);
}
