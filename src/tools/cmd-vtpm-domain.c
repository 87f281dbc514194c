/* The domain a vtpm command is about: from a domain XML file, or from
 * libvirt through its public client library, loaded only for --connect. */
#include "tools/cmd-vtpm-domain.h"

#include <gmodule.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "conf/sp-uuid.h"
#include "tools/sp-cli.h"

/* libvirt's client library is loaded only when --connect is given: linked
 * in, it costs every safepool command ~25 ms of start-up (61 libraries). */
static struct {
    GModule *module;
    int (*ConnectClose)(virConnectPtr);
    virConnectPtr (*ConnectOpenReadOnly)(const char *);
    int (*DomainFree)(virDomainPtr);
    char *(*DomainGetXMLDesc)(virDomainPtr, unsigned int);
    int (*DomainIsActive)(virDomainPtr);
    virDomainPtr (*DomainLookupByName)(virConnectPtr, const char *);
    virDomainPtr (*DomainLookupByUUIDString)(virConnectPtr, const char *);
    virErrorPtr (*GetLastError)(void);
    void (*SetErrorFunc)(void *, virErrorFunc);
} lv;

static gboolean
libvirt_load(GError **error)
{
    static const struct {
        const char *name;
        gsize offset;
    } syms[] = {
#define SP_LV_SYM(f) {"vir" #f, G_STRUCT_OFFSET(__typeof__(lv), f)}
        SP_LV_SYM(ConnectClose), SP_LV_SYM(ConnectOpenReadOnly),
        SP_LV_SYM(DomainFree), SP_LV_SYM(DomainGetXMLDesc),
        SP_LV_SYM(DomainIsActive), SP_LV_SYM(DomainLookupByName),
        SP_LV_SYM(DomainLookupByUUIDString), SP_LV_SYM(GetLastError),
        SP_LV_SYM(SetErrorFunc),
#undef SP_LV_SYM
    };

    if (lv.module)
        return TRUE;
    lv.module = g_module_open("libvirt.so.0", G_MODULE_BIND_LOCAL);
    if (!lv.module) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("--connect: cannot load libvirt: %s"), g_module_error());
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(syms); i++) {
        gpointer *slot = G_STRUCT_MEMBER_P(&lv, syms[i].offset);
        if (!g_module_symbol(lv.module, syms[i].name, slot) || !*slot) {
            g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                        _("--connect: libvirt lacks %s"), syms[i].name);
            g_clear_pointer(&lv.module, g_module_close);
            return FALSE;
        }
    }
    return TRUE;
}

static void
silent_error(void *data, virErrorPtr err)
{
    /* libvirt would print every error on stderr; we report one line. */
}

static gboolean
libvirt_error(const char *what, GError **error)
{
    virErrorPtr e = lv.GetLastError();
    int code = e && (e->code == VIR_ERR_NO_DOMAIN) ? SP_ERROR_NOT_FOUND
                                                    : SP_ERROR_FAILED;

    g_set_error(error, SP_ERROR, code, "%s: %s", what,
                e && e->message ? e->message : _("libvirt call failed"));
    return FALSE;
}

/* XML and state of @d; the SELinux label libvirt picked at start is only
 * in the live XML, which is what GetXMLDesc returns for a running domain. */
static SpDomainInfo *
domain_info(virDomainPtr d, gboolean *active, GError **error)
{
    g_autofree char *xml = lv.DomainGetXMLDesc(d, 0);
    int a;

    if (!xml) {
        libvirt_error(_("domain XML"), error);
        return NULL;
    }
    a = lv.DomainIsActive(d);
    if (a < 0) {
        libvirt_error(_("domain state"), error);
        return NULL;
    }
    if (active)
        *active = a == 1;
    return sp_domain_info_parse(xml, strlen(xml), error);
}

gboolean
sp_vtpm_domain_open(VtpmDomain *vd, const char *domain_xml,
                    const char *connect, const char *domain, GError **error)
{
    g_autofree char *as_uuid = NULL;
    virDomainPtr d;

    if (domain_xml) {
        vd->dom = sp_domain_info_parse_file(domain_xml, error);
        return vd->dom != NULL;
    }
    if (!connect)
        return TRUE;
    if (!libvirt_load(error))
        return FALSE;
    lv.SetErrorFunc(NULL, silent_error);
    vd->conn = lv.ConnectOpenReadOnly(connect);
    if (!vd->conn) {
        g_autofree char *what = g_strdup_printf("libvirt '%s'", connect);

        return libvirt_error(what, error);
    }
    if (!domain)
        return TRUE;
    as_uuid = sp_uuid_normalize(domain, NULL);
    d = as_uuid ? lv.DomainLookupByUUIDString(vd->conn, as_uuid)
                : lv.DomainLookupByName(vd->conn, domain);
    if (!d) {
        g_autofree char *what = g_strdup_printf(_("domain '%s'"), domain);

        return libvirt_error(what, error);
    }
    vd->dom = domain_info(d, &vd->active, error);
    lv.DomainFree(d);
    return vd->dom != NULL;
}

SpDomainInfo *
sp_vtpm_domain_by_uuid(VtpmDomain *vd, const char *uuid, gboolean *active)
{
    virDomainPtr d = vd->conn ? lv.DomainLookupByUUIDString(vd->conn, uuid)
                              : NULL;
    SpDomainInfo *info;

    if (!d)
        return NULL;
    info = domain_info(d, active, NULL);
    lv.DomainFree(d);
    return info;
}

void
sp_vtpm_domain_clear(VtpmDomain *vd)
{
    g_clear_pointer(&vd->dom, sp_domain_info_free);
    if (vd->conn)
        lv.ConnectClose(vd->conn);
    vd->conn = NULL;
}

