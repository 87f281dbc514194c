/* libvirt's public client library, loaded on demand: linked in, it would
 * cost every safepool command ~25 ms of start-up (61 libraries). */
#include "tools/sp-virt.h"

#include <signal.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

SpVirt sp_virt;

static void
silent_error(void *data, virErrorPtr err)
{
    /* libvirt would print every error on stderr; we report one line. */
}

gboolean
sp_virt_load(GError **error)
{
    static const struct {
        const char *name;
        gsize offset;
    } syms[] = {
#define SP_LV_SYM(f) {"vir" #f, G_STRUCT_OFFSET(SpVirt, f)}
        SP_LV_SYM(ConnectClose),
        SP_LV_SYM(ConnectGetLibVersion),
        SP_LV_SYM(ConnectListAllStoragePools),
        SP_LV_SYM(ConnectOpen),
        SP_LV_SYM(ConnectOpenReadOnly),
        SP_LV_SYM(DomainFree),
        SP_LV_SYM(DomainGetXMLDesc),
        SP_LV_SYM(DomainIsActive),
        SP_LV_SYM(DomainLookupByName),
        SP_LV_SYM(DomainLookupByUUIDString),
        SP_LV_SYM(GetLastError),
        SP_LV_SYM(SetErrorFunc),
        SP_LV_SYM(SecretFree),
        SP_LV_SYM(SecretGetValue),
        SP_LV_SYM(SecretLookupByUUIDString),
        SP_LV_SYM(StoragePoolFree),
        SP_LV_SYM(StoragePoolGetName),
        SP_LV_SYM(StoragePoolGetXMLDesc),
        SP_LV_SYM(StoragePoolLookupByName),
        SP_LV_SYM(StorageVolCreateXML),
        SP_LV_SYM(StorageVolDelete),
        SP_LV_SYM(StorageVolDownload),
        SP_LV_SYM(StorageVolFree),
        SP_LV_SYM(StorageVolGetInfo),
        SP_LV_SYM(StorageVolLookupByName),
        SP_LV_SYM(StorageVolUpload),
        SP_LV_SYM(StorageVolWipe),
        SP_LV_SYM(StreamAbort),
        SP_LV_SYM(StreamFinish),
        SP_LV_SYM(StreamFree),
        SP_LV_SYM(StreamNew),
        SP_LV_SYM(StreamRecv),
        SP_LV_SYM(StreamSend),
#undef SP_LV_SYM
    };

    if (sp_virt.module)
        return TRUE;
    sp_virt.module = g_module_open("libvirt.so.0", G_MODULE_BIND_LOCAL);
    if (!sp_virt.module) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("--connect: cannot load libvirt: %s"), g_module_error());
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(syms); i++) {
        gpointer *slot = G_STRUCT_MEMBER_P(&sp_virt, syms[i].offset);
        if (!g_module_symbol(sp_virt.module, syms[i].name, slot) || !*slot) {
            g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                        _("--connect: libvirt lacks %s"), syms[i].name);
            g_clear_pointer(&sp_virt.module, g_module_close);
            return FALSE;
        }
    }
    sp_virt.SetErrorFunc(NULL, silent_error);
    signal(SIGPIPE, SIG_IGN);
    return TRUE;
}

gboolean
sp_virt_error(const char *what, GError **error)
{
    virErrorPtr e = sp_virt.GetLastError();
    int code = SP_ERROR_FAILED;

    if (e &&
        (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_NO_STORAGE_POOL ||
         e->code == VIR_ERR_NO_STORAGE_VOL || e->code == VIR_ERR_NO_SECRET))
        code = SP_ERROR_NOT_FOUND;
    else if (e && e->code == VIR_ERR_STORAGE_VOL_EXIST)
        code = SP_ERROR_EXISTS;
    g_set_error(error, SP_ERROR, code, "%s: %s", what,
                e && e->message ? e->message : _("libvirt call failed"));
    return FALSE;
}
