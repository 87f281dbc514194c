/* The dir module's entry point: version check, registration of
 * safepool's dir backend, chain-loading of the stock fs module. */
#include "backend/sp-backend.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include "virerror.h"
#include "virlog.h"
#include "libvirt/libvirt.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.safepool");

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

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
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
            VIR_ERROR(
                "safepool: %s is this module; stock fs backend not loaded",
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

/* -- entry point ---------------------------------------------------------- */

int virStorageBackendFsRegister(void) __attribute__((visibility("default")));

int
virStorageBackendFsRegister(void)
{
    if (!sp_backend_version_ok("dir")) {
        if (sp_backend_register_refuse(VIR_STORAGE_POOL_DIR) < 0)
            return -1;
        return sp_chain_load_stock();
    }
    if (virStorageBackendRegister(&sp_backend_dir) < 0)
        return -1;
    VIR_INFO("safepool: dir backend registered");
    return sp_chain_load_stock();
}
