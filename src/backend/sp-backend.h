/* safepool's libvirt storage backend: shared declarations of the adapter.
 * Only src/backend/ includes libvirt's internal headers (design.md). */
#pragma once

#include "util/sp-module-id.h"

#include <config.h>

#include "internal.h"
#include "storage_backend.h"
#include "virstorageobj.h"

#include <glib.h>

/* Messages here are safepool's, in its own gettext domain: libvirt's
 * internal.h defines _() for libvirt's. */
#undef _
#define _(str) g_dgettext(GETTEXT_PACKAGE, str)

#include "conf/sp-policy.h"
#include "conf/sp-volume.h"
#include "image/sp-pool.h"
#include "util/sp-error.h"
#include "util/sp-secret.h"

/* The backend registered for VIR_STORAGE_POOL_DIR. */
extern virStorageBackend sp_backend_dir;

/* Whether libvirtd is the libvirt this module was built for; if not, the
 * reason is logged and kept for the stand-in's refusals. */
gboolean sp_backend_version_ok(const char *pools);
/* Register the stand-in that refuses every operation on pools of @type. */
int sp_backend_register_refuse(int type);

/* Report @error (SP_ERROR or other) as the libvirt error of the current
 * thread: a fitting virErrorNumber and safepool's one-line message. */
void sp_backend_report(const GError *error);
/* The virErrorNumber used for @error (table in docs/module.md). */
int sp_backend_error_code(const GError *error);

/* A libvirt flag and its name, for refusals a user can act on. */
typedef struct {
    unsigned int flag;
    const char *name;
} SpFlagName;

/* Refuse (VIR_ERR_ARGUMENT_UNSUPPORTED, naming each one) every flag of
 * @flags outside @supported; @names lists the flags libvirt defines for
 * the callback (NULL-terminated). FALSE when something was refused. */
gboolean sp_backend_check_flags(unsigned int flags, unsigned int supported,
                                const SpFlagName *names, const char *what);

/* The arguments both modules accept for volume @name: an upload (sparse
 * or not, the whole volume only), a download (sparse or not), a wipe
 * (zeroes, no flags). FALSE with a libvirt error naming what was
 * refused. */
gboolean sp_backend_upload_args(const char *name, unsigned long long offset,
                                unsigned long long len, unsigned int flags);
gboolean sp_backend_download_args(const char *name, unsigned int flags);
gboolean sp_backend_wipe_args(const char *name, unsigned int algorithm,
                              unsigned int flags);

/* The site policy, read afresh for every operation ($SAFEPOOL_CONFIG in
 * libvirtd's environment, else /etc/safepool/safepool.conf, else defaults). */
SpPolicy *sp_backend_policy(GError **error);

/* Open the pool directory of @obj (its target path) under @policy;
 * stale temporaries are swept only with @sweep (pool start, refresh). */
SpPool *sp_backend_pool_open(virStoragePoolObj *obj, const SpPolicy *policy,
                             gboolean sweep, GError **error);

/* The single place a libvirt volume definition becomes safepool's struct. */
SpVolume *sp_backend_volume_from_def(const virStorageVolDef *def,
                                     GError **error);

/* Fill libvirt's definition of a listed volume from what safepool recorded
 * (format from the record, never probed; a file with no record is
 * libvirt's format "none", never raw). */
void sp_backend_def_fill(virStorageVolDef *def, const SpVolInfo *info,
                         const char *pool_path);

/* The LUKS passphrase named by @enc, from libvirt's secret driver.
 * *secret stays NULL when @enc is NULL or disabled. */
gboolean sp_backend_secret(const virStorageEncryption *enc, SpSecret **secret,
                           GError **error);

/* A secret from libvirt's secret driver (@usage: VIR_SECRET_USAGE_TYPE_*),
 * base64-encoded into the buffer with @base64 (a cephx key); @element
 * names what asked for it in errors. */
gboolean sp_backend_secret_fetch(const virSecretLookupTypeDef *lookup,
                                 int usage, gboolean base64,
                                 const char *element, SpSecret **secret,
                                 GError **error);

/* Callbacks (sp-backend-vol.c, sp-backend-pool.c, sp-backend-stream.c). */
int sp_backend_check_pool(virStoragePoolObj *obj, bool *active);
int sp_backend_start_pool(virStoragePoolObj *obj);
int sp_backend_build_pool(virStoragePoolObj *obj, unsigned int flags);
int sp_backend_refresh_pool(virStoragePoolObj *obj);
int sp_backend_delete_pool(virStoragePoolObj *obj, unsigned int flags);
int sp_backend_create_vol(virStoragePoolObj *obj, virStorageVolDef *vol);
int sp_backend_build_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                         unsigned int flags);
int sp_backend_build_vol_from(virStoragePoolObj *obj, virStorageVolDef *vol,
                              virStorageVolDef *inputvol, unsigned int flags);
int sp_backend_refresh_vol(virStoragePoolObj *obj, virStorageVolDef *vol);
int sp_backend_delete_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                          unsigned int flags);
int sp_backend_resize_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                          unsigned long long capacity, unsigned int flags);
int sp_backend_upload_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                          virStreamPtr stream, unsigned long long offset,
                          unsigned long long len, unsigned int flags);
int sp_backend_download_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                            virStreamPtr stream, unsigned long long offset,
                            unsigned long long len, unsigned int flags);
int sp_backend_wipe_vol(virStoragePoolObj *obj, virStorageVolDef *vol,
                        unsigned int algorithm, unsigned int flags);

/* The libvirt the modules are compiled against (a test build may claim
 * another one). Its internal structs are only valid for exactly this one. */
#ifdef SP_LIBVIRT_VERSION_OVERRIDE
#define SP_BUILT_FOR SP_LIBVIRT_VERSION_OVERRIDE
#else
#define SP_BUILT_FOR LIBVIR_VERSION_NUMBER
#endif

/* The identity `safepool status` reads in a module file a daemon has
 * mapped (util/sp-module-id.h). Each module defines one, with the libvirt
 * version it is built for and the pool types it serves:
 * SP_MODULE_ID(SP_BUILT_FOR, "dir"); */
#define SP_MODULE_ID(built_for, types)                                         \
    __attribute__((used)) static const char sp_module_id[] =                   \
        SP_MODULE_ID_PREFIX "version=" SP_VERSION                              \
                            " libvirt=" G_STRINGIFY(built_for) " types=" types
