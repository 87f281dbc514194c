/* Module entry point: version check, registration of safepool's dir
 * backend, chain-loading of the stock fs module, error mapping. */
#include "backend/sp-backend.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include "virerror.h"
#include "virlog.h"
#include "libvirt/libvirt.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool");

/* The libvirt the module was compiled against (a test build may claim
 * another one). Its internal structs are only valid for exactly this one. */
#ifdef SP_LIBVIRT_VERSION_OVERRIDE
# define SP_BUILT_FOR SP_LIBVIRT_VERSION_OVERRIDE
#else
# define SP_BUILT_FOR LIBVIR_VERSION_NUMBER
#endif

#define SP_STOCK_MODULE "libvirt_storage_backend_fs.so"

SP_MODULE_ID(SP_BUILT_FOR, "dir");

virStorageBackend sp_backend_dir = {
    .type = VIR_STORAGE_POOL_DIR,

    .checkPool = sp_backend_check_pool,
    .startPool = sp_backend_start_pool,
    .buildPool = sp_backend_build_pool,
    .refreshPool = sp_backend_refresh_pool,
    .deletePool = sp_backend_delete_pool,
    .buildVol = sp_backend_build_vol,
    .buildVolFrom = sp_backend_build_vol_from,
    .createVol = sp_backend_create_vol,
    .refreshVol = sp_backend_refresh_vol,
    .deleteVol = sp_backend_delete_vol,
    .resizeVol = sp_backend_resize_vol,
    .uploadVol = sp_backend_upload_vol,
    .downloadVol = sp_backend_download_vol,
    .wipeVol = sp_backend_wipe_vol,
};

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

/* libvirt's own backend directory: next to the storage driver that called
 * us (connection-driver/../storage-backend), else the build-time guess.
 * Never $LIBVIRT_STORAGE_BACKEND_DIR: that is where this module lives. */
static char *
sp_stock_backend_dir(void)
{
    Dl_info info;

    if (dladdr((void *)virStorageBackendRegister, &info) && info.dli_fname &&
        g_path_is_absolute(info.dli_fname)) {
        g_autofree char *drvdir = g_path_get_dirname(info.dli_fname);
        g_autofree char *libdir = g_path_get_dirname(drvdir);
        char *dir = g_build_filename(libdir, "storage-backend", NULL);

        if (g_file_test(dir, G_FILE_TEST_IS_DIR))
            return dir;
        g_free(dir);
    }
    return g_strdup(SP_STOCK_BACKEND_DIR);
}

static gboolean
sp_same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Load the stock fs module and let it register dir (ignored: ours came
 * first), fs and netfs. */
static int
sp_chain_load_stock(void)
{
    g_autofree char *dir = sp_stock_backend_dir();
    g_autofree char *path = g_build_filename(dir, SP_STOCK_MODULE, NULL);
    Dl_info self;
    void *handle;
    int (*reg)(void);

    if (dladdr((void *)sp_chain_load_stock, &self) && self.dli_fname &&
        sp_same_file(self.dli_fname, path)) {
        /* installed over the stock module (dpkg diversion): the stock
         * module is the diverted file */
        g_free(path);
        path = g_build_filename(dir, SP_STOCK_MODULE ".libvirt-stock", NULL);
        if (sp_same_file(self.dli_fname, path)) {
            VIR_ERROR("safepool: %s is this module; stock fs backend not loaded",
                      path);
            return 0;
        }
    }
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!handle) {
        /* fs/netfs are then unavailable; dir pools still work */
        VIR_ERROR("safepool: cannot load the stock fs backend %s: %s", path,
                  dlerror());
        return 0;
    }
    reg = (int (*)(void))dlsym(handle, "virStorageBackendFsRegister");
    if (!reg) {
        VIR_ERROR("safepool: %s has no virStorageBackendFsRegister", path);
        return 0;
    }
    VIR_DEBUG("safepool: chain-loading %s", path);
    return reg();
}

/* -- the placeholder of a mismatched module ------------------------------ */

static char sp_refuse_reason[256] = "safepool: dir pools are disabled";

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
               unsigned int alg G_GNUC_UNUSED,
               unsigned int flags G_GNUC_UNUSED)
{
    return sp_refuse();
}

static virStorageBackend sp_backend_refuse = {
    .type = VIR_STORAGE_POOL_DIR,
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

/* -- entry point ---------------------------------------------------------- */

int virStorageBackendFsRegister(void) __attribute__((visibility("default")));

int
virStorageBackendFsRegister(void)
{
    unsigned long running = 0;

    if (virGetVersion(&running, NULL, NULL) < 0 || running != SP_BUILT_FOR) {
        /* Fail closed: libvirt's internal structs may differ, so safepool's
         * dir backend is not registered and dir pools stay unavailable
         * rather than being served by code built for other structs. */
        VIR_ERROR("safepool: module built for libvirt %lu.%lu.%lu but "
                  "libvirtd is %lu.%lu.%lu: safepool's dir backend NOT "
                  "registered (dir pools unavailable); rebuild safepool "
                  "against this libvirt (tools/libvirt-source)",
                  (unsigned long)SP_BUILT_FOR / 1000000,
                  (unsigned long)SP_BUILT_FOR / 1000 % 1000,
                  (unsigned long)SP_BUILT_FOR % 1000,
                  running / 1000000, running / 1000 % 1000, running % 1000);
        /* The stock module registers a dir backend too: a placeholder that
         * only refuses comes first so that dir pools stay unavailable
         * (only its type field and callbacks that ignore their arguments
         * and return -1 are relied on). */
        g_snprintf(sp_refuse_reason, sizeof(sp_refuse_reason),
                   "safepool: storage backend module built for libvirt "
                   "%lu.%lu.%lu, libvirtd is %lu.%lu.%lu: dir pools are "
                   "disabled until safepool is rebuilt for this libvirt",
                   (unsigned long)SP_BUILT_FOR / 1000000,
                   (unsigned long)SP_BUILT_FOR / 1000 % 1000,
                   (unsigned long)SP_BUILT_FOR % 1000,
                   running / 1000000, running / 1000 % 1000, running % 1000);
        if (virStorageBackendRegister(&sp_backend_refuse) < 0)
            return -1;
        return sp_chain_load_stock();
    }

    if (virStorageBackendRegister(&sp_backend_dir) < 0)
        return -1;
    VIR_INFO("safepool: dir backend registered (libvirt %lu)", running);
    return sp_chain_load_stock();
}
