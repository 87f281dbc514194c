/* The rbd module: libvirt's <pool type='rbd'> served by src/rbd/ (entry
 * point, pool and volume callbacks). libvirt's structs in, core calls,
 * libvirt errors out. */
#include "backend/sp-backend-rbd.h"

#include "datatypes.h"
#include "virerror.h"
#include "virlog.h"
#include "virsecret.h"
#include "storage_util.h"
#include "virxml.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool.rbd");

gboolean
sp_rbd_backend_open(virStoragePoolObj *obj, SpPolicy **policy, SpRbdPool **pool,
                    gboolean sweep, GError **error)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    virStorageAuthDef *auth = def->source.auth;
    g_autoptr(SpRbdSource) src = sp_rbd_source_new();
    g_autoptr(SpSecret) key = NULL;
    guint swept = 0;
    size_t n = 0;

    if (!auth || auth->authType != VIR_STORAGE_AUTH_TYPE_CEPHX) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("rbd pool '%s': safepool needs <auth type='ceph' "
                      "username='...'> with a libvirt secret (cephx)"),
                    def->name);
        return FALSE;
    }
    /* (libvirt builds against GLib 2.56: no g_ptr_array_steal here) */
    src->monitors = g_new0(char *, def->source.nhost + 1);
    for (size_t i = 0; i < def->source.nhost; i++) {
        const virStoragePoolSourceHost *h = &def->source.hosts[i];

        if (!h->name)
            continue;
        if (!h->port)
            src->monitors[n++] = g_strdup(h->name);
        else if (strchr(h->name, ':'))
            src->monitors[n++] = g_strdup_printf("[%s]:%d", h->name, h->port);
        else
            src->monitors[n++] = g_strdup_printf("%s:%d", h->name, h->port);
    }
    src->user = g_strdup(auth->username);
    if (!sp_rbd_source_set_name(src, def->source.name, error) ||
        !(*policy = sp_backend_policy(error)) ||
        !sp_rbd_source_check(src, *policy, error) ||
        !sp_backend_secret_fetch(&auth->seclookupdef,
                                 VIR_SECRET_USAGE_TYPE_CEPH, TRUE,
                                 _("rbd pool <auth><secret>"), &key, error) ||
        !(*pool = sp_rbd_pool_open(src, key, *policy, error)))
        return FALSE;
    if (sweep) {
        if (!sp_rbd_pool_sweep(*pool, &swept, error))
            return FALSE;
        if (swept)
            VIR_INFO("safepool: rbd pool '%s': swept %u stale temporaries",
                     def->name, swept);
    }
    return TRUE;
}

/* Open as sp_rbd_backend_open and report a failure as libvirt's error. */
#define SP_RBD_OPEN(obj, policy, pool, sweep)                                  \
    do {                                                                       \
        g_autoptr(GError) open_err_ = NULL;                                    \
        if (!sp_rbd_backend_open(obj, &(policy), &(pool), sweep,               \
                                 &open_err_)) {                                \
            sp_backend_report(open_err_);                                      \
            return -1;                                                         \
        }                                                                      \
    } while (0)

static int
fail(GError *error)
{
    sp_backend_report(error);
    return -1;
}

/* -- pool ----------------------------------------------------------------- */

/* A pool that was active before the daemon restarted is active again: the
 * refresh that follows connects (and marks it inactive if Ceph cannot be
 * reached), so nothing here waits on the cluster. */
static int
sp_rbd_check_pool(virStoragePoolObj *obj, bool *active)
{
    *active = true;
    return 0;
}

static int
sp_rbd_start_pool(virStoragePoolObj *obj)
{
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;

    SP_RBD_OPEN(obj, policy, pool, TRUE);
    return 0;
}

/* pool-build makes the namespace of a POOL/NAMESPACE pool. */
static int
sp_rbd_build_pool(virStoragePoolObj *obj, unsigned int flags)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;
    g_autofree char *ns = NULL;
    g_autofree char *base = NULL;
    g_autofree char *saved = g_strdup(def->source.name);
    const char *slash;

    if (!sp_backend_check_flags(flags, VIR_STORAGE_POOL_BUILD_NO_OVERWRITE,
                                NULL, def->name))
        return -1;
    if (!def->source.name || !(slash = strchr(def->source.name, '/')))
        return 0;
    ns = g_strdup(slash + 1);
    base = g_strndup(def->source.name, (gsize)(slash - def->source.name));
    /* connect to the pool's default namespace to make the pool's own */
    g_free(def->source.name);
    def->source.name = g_steal_pointer(&base);
    if (!sp_rbd_backend_open(obj, &policy, &pool, FALSE, &error) ||
        !sp_rbd_namespace_create(pool, ns, &error)) {
        g_free(def->source.name);
        def->source.name = g_steal_pointer(&saved);
        return fail(error);
    }
    g_free(def->source.name);
    def->source.name = g_steal_pointer(&saved);
    return 0;
}

static void
fill(virStorageVolDef *vol, virStoragePoolDef *def, const SpRbdVolInfo *i)
{
    vol->type = VIR_STORAGE_VOL_NETWORK;
    vol->target.type = VIR_STORAGE_TYPE_NETWORK;
    g_free(vol->target.path);
    vol->target.path = g_strdup_printf("%s/%s", def->source.name, i->name);
    g_free(vol->key);
    vol->key = g_strdup(vol->target.path);
    /* the recorded format; an image safepool did not make is "none" */
    vol->target.format = i->recorded && i->format == SP_FORMAT_RAW
                             ? VIR_STORAGE_FILE_RAW
                             : VIR_STORAGE_FILE_NONE;
    vol->target.capacity = i->capacity;
    vol->target.allocation = i->allocation;
    vol->target.physical = i->allocation;
}

static int
sp_rbd_refresh_pool(virStoragePoolObj *obj)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;
    g_autoptr(GPtrArray) vols = NULL;
    guint64 cap = 0, avail = 0, alloc = 0;

    /* swept here too: a pool still active across a restart is refreshed,
     * never started again */
    SP_RBD_OPEN(obj, policy, pool, TRUE);
    if (!sp_rbd_pool_stat(pool, &cap, &avail, &alloc, &error) ||
        !(vols = sp_rbd_list(pool, &error)))
        return fail(error);
    def->capacity = cap;
    def->available = avail;
    def->allocation = alloc;
    for (guint i = 0; i < vols->len; i++) {
        const SpRbdVolInfo *info = g_ptr_array_index(vols, i);
        virStorageVolDef *vol = g_new0(virStorageVolDef, 1);

        vol->name = g_strdup(info->name);
        fill(vol, def, info);
        if (virStoragePoolObjAddVol(obj, vol) < 0) {
            virStorageVolDefFree(vol);
            return -1;
        }
    }
    return 0;
}

/* -- volumes --------------------------------------------------------------- */

/* With the pool locked: lexical checks only, and the path computed here
 * (for a clone, vol->target.path may still be the source's). */
static int
sp_rbd_create_vol(virStoragePoolObj *obj, virStorageVolDef *vol)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;

    if (!sp_rbd_check_name(vol->name, &error))
        return fail(error);
    if (vol->target.format != VIR_STORAGE_FILE_RAW &&
        vol->target.format != VIR_STORAGE_FILE_NONE) {
        virReportError(
            VIR_ERR_CONFIG_UNSUPPORTED,
            _("volume '%s': format '%s': RBD pools hold raw "
              "images only"),
            vol->name,
            NULLSTR(virStorageFileFormatTypeToString(vol->target.format)));
        return -1;
    }
    vol->type = VIR_STORAGE_VOL_NETWORK;
    vol->target.type = VIR_STORAGE_TYPE_NETWORK;
    vol->target.format = VIR_STORAGE_FILE_RAW;
    g_free(vol->target.path);
    vol->target.path = g_strdup_printf("%s/%s", def->source.name, vol->name);
    g_free(vol->key);
    vol->key = g_strdup(vol->target.path);
    return 0;
}

static int
sp_rbd_build(virStoragePoolObj *obj, virStorageVolDef *vol,
             virStorageVolDef *inputvol, unsigned int flags)
{
    virStoragePoolDef *def = virStoragePoolObjGetDef(obj);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;
    g_autoptr(SpVolume) v = NULL;
    g_autofree char *own = NULL;
    SpRbdCreateArgs args = {0};

    if (!sp_backend_check_flags(flags, 0, sp_rbd_create_flags, vol->name))
        return -1;
    if (inputvol) {
        /* confined to the pool's own namespace: the source's libvirt path
         * must be this pool's POOL[/NS]/NAME */
        own = g_strdup_printf("%s/%s", def->source.name, inputvol->name);
        if (g_strcmp0(inputvol->target.path, own) != 0) {
            virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                           _("clone source '%s' is not a volume of rbd pool "
                             "'%s': safepool clones within one pool"),
                           NULLSTR(inputvol->target.path), def->name);
            return -1;
        }
        args.from = inputvol->name;
    }
    if (!(v = sp_backend_volume_from_def(vol, &error)))
        return fail(error);
    /* the capacity libvirt gives a clone is the source's */
    if (inputvol && v->capacity < inputvol->target.capacity)
        v->capacity = inputvol->target.capacity;
    SP_RBD_OPEN(obj, policy, pool, FALSE);
    if (!sp_rbd_create(pool, v, &args, &error))
        return fail(error);
    return 0;
}

static int
sp_rbd_build_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                 unsigned int flags)
{
    return sp_rbd_build(obj, vol, NULL, flags);
}

static int
sp_rbd_build_vol_from(virStoragePoolObj *obj, virStorageVolDef *vol,
                      virStorageVolDef *inputvol, unsigned int flags)
{
    return sp_rbd_build(obj, vol, inputvol, flags);
}

static int
sp_rbd_refresh_vol(virStoragePoolObj *obj, virStorageVolDef *vol)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;
    g_autoptr(SpRbdVolInfo) info = NULL;

    SP_RBD_OPEN(obj, policy, pool, FALSE);
    if (!(info = sp_rbd_info(pool, vol->name, &error)))
        return fail(error);
    fill(vol, virStoragePoolObjGetDef(obj), info);
    return 0;
}

static int
sp_rbd_delete_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                  unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;
    SpRbdDeleteFlags df = 0;

    if (!sp_backend_check_flags(flags, VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS,
                                sp_rbd_delete_flags, vol->name))
        return -1;
    /* --delete-snapshots: the volume's snapshots go, so clones made from
     * them are flattened first */
    if (flags & VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS)
        df = SP_RBD_DELETE_SNAPSHOTS | SP_RBD_DELETE_FLATTEN_CHILDREN;
    SP_RBD_OPEN(obj, policy, pool, FALSE);
    if (!sp_rbd_delete(pool, vol->name, df, &error)) {
        /* a failed build made nothing; gone already is gone */
        if (g_error_matches(error, SP_ERROR, SP_ERROR_NOT_FOUND))
            return 0;
        return fail(error);
    }
    return 0;
}

static int
sp_rbd_resize_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                  unsigned long long capacity, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;

    /* DELTA is resolved to an absolute size by the storage driver;
     * ALLOCATE means nothing for a thin RBD image: refused by name */
    if (!sp_backend_check_flags(
            flags, VIR_STORAGE_VOL_RESIZE_DELTA | VIR_STORAGE_VOL_RESIZE_SHRINK,
            sp_rbd_resize_flags, vol->name))
        return -1;
    SP_RBD_OPEN(obj, policy, pool, FALSE);
    if (!sp_rbd_resize(pool, vol->name, capacity,
                       !!(flags & VIR_STORAGE_VOL_RESIZE_SHRINK), &error))
        return fail(error);
    return 0;
}

static int
sp_rbd_wipe_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                unsigned int algorithm, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) policy = NULL;
    g_autoptr(SpRbdPool) pool = NULL;

    if (!sp_backend_wipe_args(vol->name, algorithm, flags))
        return -1;
    SP_RBD_OPEN(obj, policy, pool, FALSE);
    if (!sp_rbd_wipe(pool, vol->name, &error))
        return fail(error);
    return 0;
}

virStorageBackend sp_backend_rbd = {
    .type = VIR_STORAGE_POOL_RBD,

    .checkPool = sp_rbd_check_pool,
    .startPool = sp_rbd_start_pool,
    .buildPool = sp_rbd_build_pool,
    .refreshPool = sp_rbd_refresh_pool,
    .createVol = sp_rbd_create_vol,
    .buildVol = sp_rbd_build_vol,
    .buildVolFrom = sp_rbd_build_vol_from,
    .refreshVol = sp_rbd_refresh_vol,
    .deleteVol = sp_rbd_delete_vol,
    .resizeVol = sp_rbd_resize_vol,
    .uploadVol = sp_rbd_upload_vol,
    .downloadVol = sp_rbd_download_vol,
    .wipeVol = sp_rbd_wipe_vol,
};

/* libvirt's rbd pool XML namespace (<rbd:config_opts><rbd:option/>):
 * Ceph options for the connection. safepool connects with the monitors,
 * the user and the key alone (no ceph.conf, no option from the XML), so a
 * pool that names options is refused at define, not silently changed. */
static int
sp_rbd_ns_parse(xmlXPathContextPtr ctxt, void **data)
{
    g_autofree xmlNodePtr *nodes = NULL;
    int n = virXPathNodeSet("./rbd:config_opts/rbd:option", ctxt, &nodes);

    *data = NULL;
    if (n < 0)
        return -1;
    if (n > 0) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("rbd pool XML element 'rbd:config_opts': Ceph options "
                         "are not supported by safepool (it connects with the "
                         "monitors, the user and the key only; docs/rbd.md)"));
        return -1;
    }
    return 0;
}

static void
sp_rbd_ns_free(void *data G_GNUC_UNUSED)
{
}

static int
sp_rbd_ns_format(virBuffer *buf G_GNUC_UNUSED, void *data G_GNUC_UNUSED)
{
    return 0;
}

static virXMLNamespace sp_rbd_xml_namespace = {
    .parse = sp_rbd_ns_parse,
    .free = sp_rbd_ns_free,
    .format = sp_rbd_ns_format,
    .prefix = "rbd",
    .uri = "http://libvirt.org/schemas/storagepool/rbd/1.0",
};

SP_MODULE_ID(SP_BUILT_FOR, "rbd");

int virStorageBackendRBDRegister(void) __attribute__((visibility("default")));

/* Registered instead of the stock rbd module (make-backend-dir links
 * only one of them). On another libvirt version a stand-in refuses every
 * rbd pool operation, so the stock backend cannot take over. */
int
virStorageBackendRBDRegister(void)
{
    if (!sp_backend_version_ok("rbd"))
        return sp_backend_register_refuse(VIR_STORAGE_POOL_RBD);
    if (virStorageBackendRegister(&sp_backend_rbd) < 0 ||
        virStorageBackendNamespaceInit(VIR_STORAGE_POOL_RBD,
                                       &sp_rbd_xml_namespace) < 0)
        return -1;
    /* one connection per pool, not per callback (a create is two) */
    sp_rbd_conn_cache_enable(60);
    VIR_INFO("safepool: rbd backend registered");
    return 0;
}
