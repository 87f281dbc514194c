/* What both safepool modules (dir and rbd) share: error mapping, flag
 * refusals, the policy, the version check and the stand-in backend that
 * refuses everything when the module was built for another libvirt. */
#include "backend/sp-backend.h"

#include "virerror.h"
#include "virlog.h"
#include "libvirt/libvirt.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.common");

int
sp_backend_error_code(const GError *error)
{
    if (!error || error->domain != SP_ERROR)
        return VIR_ERR_INTERNAL_ERROR;
    switch ((SpErrorCode)error->code) {
    case SP_ERROR_INVALID:
    case SP_ERROR_USAGE:
        return VIR_ERR_INVALID_ARG;
    case SP_ERROR_XML:
        return VIR_ERR_XML_ERROR;
    case SP_ERROR_UNSAFE_IMAGE:
    case SP_ERROR_FORMAT_MISMATCH:
        /* the request is well-formed, the image it names is not usable */
        return VIR_ERR_OPERATION_INVALID;
    case SP_ERROR_NOT_FOUND:
        return VIR_ERR_NO_STORAGE_VOL;
    case SP_ERROR_EXISTS:
        return VIR_ERR_STORAGE_VOL_EXIST;
    case SP_ERROR_LOCKED:
        return VIR_ERR_RESOURCE_BUSY;
    case SP_ERROR_IN_USE:
        return VIR_ERR_OPERATION_INVALID;
    case SP_ERROR_FAILED:
        break;
    }
    return VIR_ERR_INTERNAL_ERROR;
}

gboolean
sp_backend_check_flags(unsigned int flags, unsigned int supported,
                       const SpFlagName *names, const char *what)
{
    unsigned int extra = flags & ~supported;
    g_autoptr(GString) list = NULL;

    if (!extra)
        return TRUE;
    list = g_string_new(NULL);
    for (const SpFlagName *n = names; n && n->name; n++) {
        if (!(extra & n->flag))
            continue;
        g_string_append_printf(list, "%s%s", list->len ? ", " : "", n->name);
        extra &= ~n->flag;
    }
    if (extra)
        g_string_append_printf(list, "%s0x%x", list->len ? ", " : "", extra);
    virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                   _("%s: flag %s is not supported by safepool"), what,
                   list->str);
    return FALSE;
}

static const SpFlagName sp_upload_flags[] = {
    {VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
     "VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM"},
    {0, NULL},
};

static const SpFlagName sp_download_flags[] = {
    {VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
     "VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM"},
    {0, NULL},
};

gboolean
sp_backend_upload_args(const char *name, unsigned long long offset,
                       unsigned long long len, unsigned int flags)
{
    if (!sp_backend_check_flags(flags, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
                                sp_upload_flags, name))
        return FALSE;
    if (offset != 0 || len != 0) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("upload into volume '%s': --offset/--length are not "
                         "supported (safepool replaces and inspects whole "
                         "images)"),
                       name);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_backend_download_args(const char *name, unsigned int flags)
{
    return sp_backend_check_flags(flags, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
                                  sp_download_flags, name);
}

gboolean
sp_backend_wipe_args(const char *name, unsigned int algorithm,
                     unsigned int flags)
{
    if (!sp_backend_check_flags(flags, 0, NULL, name))
        return FALSE;
    if (algorithm != VIR_STORAGE_VOL_WIPE_ALG_ZERO) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("wipe of volume '%s': only the zero algorithm is "
                         "supported"),
                       name);
        return FALSE;
    }
    return TRUE;
}

void
sp_backend_report(const GError *error)
{
    virReportError(sp_backend_error_code(error), "%s",
                   error ? error->message : _("safepool: unknown error"));
}

SpPolicy *
sp_backend_policy(GError **error)
{
    return sp_policy_load(NULL, error);
}

SpPool *
sp_backend_pool_open(virStoragePoolObj *obj, const SpPolicy *policy,
                     gboolean sweep, GError **error)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);

    return sp_pool_open_full(def->target.path, policy, sweep, error);
}

/* -- the placeholder of a mismatched module ------------------------------ */

/* One module registers one pool type: one reason. */
static char sp_refuse_reason[320] = "safepool: pools of this type are disabled";

static int
sp_refuse(void)
{
    virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s", sp_refuse_reason);
    return -1;
}

static int
sp_refuse_check(virStoragePoolObj *obj G_GNUC_UNUSED, bool *active)
{
    if (active)
        *active = false;
    return sp_refuse();
}

static int
sp_refuse_pool(virStoragePoolObj *obj G_GNUC_UNUSED)
{
    return sp_refuse();
}

static int
sp_refuse_pool_flags(virStoragePoolObj *obj G_GNUC_UNUSED,
                     unsigned int flags G_GNUC_UNUSED)
{
    return sp_refuse();
}

static int
sp_refuse_vol(virStoragePoolObj *obj G_GNUC_UNUSED,
              virStorageVolDef *vol G_GNUC_UNUSED)
{
    return sp_refuse();
}

static int
sp_refuse_vol_flags(virStoragePoolObj *obj G_GNUC_UNUSED,
                    virStorageVolDef *vol G_GNUC_UNUSED,
                    unsigned int flags G_GNUC_UNUSED)
{
    return sp_refuse();
}

static int
sp_refuse_vol_from(virStoragePoolObj *obj G_GNUC_UNUSED,
                   virStorageVolDef *a G_GNUC_UNUSED,
                   virStorageVolDef *b G_GNUC_UNUSED,
                   unsigned int flags G_GNUC_UNUSED)
{
    return sp_refuse();
}

static int
sp_refuse_resize(virStoragePoolObj *obj G_GNUC_UNUSED,
                 virStorageVolDef *vol G_GNUC_UNUSED,
                 unsigned long long c G_GNUC_UNUSED,
                 unsigned int flags G_GNUC_UNUSED)
{
    return sp_refuse();
}

static int
sp_refuse_stream(virStoragePoolObj *obj G_GNUC_UNUSED,
                 virStorageVolDef *vol G_GNUC_UNUSED,
                 virStreamPtr st G_GNUC_UNUSED,
                 unsigned long long off G_GNUC_UNUSED,
                 unsigned long long len G_GNUC_UNUSED,
                 unsigned int flags G_GNUC_UNUSED)
{
    return sp_refuse();
}

static int
sp_refuse_wipe(virStoragePoolObj *obj G_GNUC_UNUSED,
               virStorageVolDef *vol G_GNUC_UNUSED,
               unsigned int alg G_GNUC_UNUSED, unsigned int flags G_GNUC_UNUSED)
{
    return sp_refuse();
}

static virStorageBackend sp_backend_refuse = {
    .checkPool = sp_refuse_check,
    .startPool = sp_refuse_pool,
    .buildPool = sp_refuse_pool_flags,
    .refreshPool = sp_refuse_pool,
    .deletePool = sp_refuse_pool_flags,
    .buildVol = sp_refuse_vol_flags,
    .buildVolFrom = sp_refuse_vol_from,
    .createVol = sp_refuse_vol,
    .refreshVol = sp_refuse_vol,
    .deleteVol = sp_refuse_vol_flags,
    .resizeVol = sp_refuse_resize,
    .uploadVol = sp_refuse_stream,
    .downloadVol = sp_refuse_stream,
    .wipeVol = sp_refuse_wipe,
};

gboolean
sp_backend_version_ok(const char *pools)
{
    unsigned long running = 0;

    if (virGetVersion(&running, NULL, NULL) == 0 && running == SP_BUILT_FOR)
        return TRUE;
    /* Fail closed: libvirt's internal structs may differ, so safepool's
     * backend is not registered and its pools stay unavailable rather
     * than being served by code built for other structs. */
    VIR_ERROR("safepool: module built for libvirt %lu.%lu.%lu but "
              "libvirtd is %lu.%lu.%lu: safepool's %s backend NOT "
              "registered (%s pools unavailable); rebuild safepool "
              "against this libvirt (tools/libvirt-source)",
              (unsigned long)SP_BUILT_FOR / 1000000,
              (unsigned long)SP_BUILT_FOR / 1000 % 1000,
              (unsigned long)SP_BUILT_FOR % 1000, running / 1000000,
              running / 1000 % 1000, running % 1000, pools, pools);
    g_snprintf(sp_refuse_reason, sizeof(sp_refuse_reason),
               "safepool: storage backend module built for libvirt "
               "%lu.%lu.%lu, libvirtd is %lu.%lu.%lu: %s pools are "
               "disabled until safepool is rebuilt for this libvirt",
               (unsigned long)SP_BUILT_FOR / 1000000,
               (unsigned long)SP_BUILT_FOR / 1000 % 1000,
               (unsigned long)SP_BUILT_FOR % 1000, running / 1000000,
               running / 1000 % 1000, running % 1000, pools);
    return FALSE;
}

int
sp_backend_register_refuse(int type)
{
    /* The stock module registers a backend for this type too: a stand-in
     * that only refuses comes first so that these pools stay unavailable
     * (only its type field and callbacks that ignore their arguments and
     * return -1 are relied on). */
    sp_backend_refuse.type = type;
    return virStorageBackendRegister(&sp_backend_refuse);
}
