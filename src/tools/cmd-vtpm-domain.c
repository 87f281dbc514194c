/* The domain a vtpm command is about: from a domain XML file, or from
 * libvirt through its public client library, loaded only for --connect. */
#include "tools/cmd-vtpm-domain.h"

#include <string.h>

#include "conf/sp-uuid.h"
#include "tools/sp-cli.h"
#include "tools/sp-virt.h"

/* XML and state of @d; the SELinux label libvirt picked at start is only
 * in the live XML, which is what GetXMLDesc returns for a running domain. */
static SpDomainInfo *
domain_info(virDomainPtr d, gboolean *active, GError **error)
{
    g_autofree char *xml = sp_virt.DomainGetXMLDesc(d, 0);
    int a;

    if (!xml) {
        sp_virt_error(_("domain XML"), error);
        return NULL;
    }
    a = sp_virt.DomainIsActive(d);
    if (a < 0) {
        sp_virt_error(_("domain state"), error);
        return NULL;
    }
    if (active)
        *active = a == 1;
    return sp_domain_info_parse(xml, strlen(xml), error);
}

gboolean
sp_vtpm_domain_open(VtpmDomain *vd, const char *domain_xml, const char *connect,
                    const char *domain, gboolean rw, GError **error)
{
    g_autofree char *as_uuid = NULL;
    virDomainPtr d;

    if (domain_xml) {
        vd->dom = sp_domain_info_parse_file(domain_xml, error);
        if (!vd->dom)
            return FALSE;
    }
    if (!connect)
        return TRUE;
    if (!sp_virt_load(error))
        return FALSE;
    vd->conn = rw ? sp_virt.ConnectOpen(connect)
                  : sp_virt.ConnectOpenReadOnly(connect);
    if (!vd->conn) {
        g_autofree char *what = g_strdup_printf("libvirt '%s'", connect);

        return sp_virt_error(what, error);
    }
    if (!domain)
        return TRUE;
    as_uuid = sp_uuid_normalize(domain, NULL);
    d = as_uuid ? sp_virt.DomainLookupByUUIDString(vd->conn, as_uuid)
                : sp_virt.DomainLookupByName(vd->conn, domain);
    if (!d) {
        g_autofree char *what = g_strdup_printf(_("domain '%s'"), domain);

        return sp_virt_error(what, error);
    }
    vd->dom = domain_info(d, &vd->active, error);
    sp_virt.DomainFree(d);
    return vd->dom != NULL;
}

SpDomainInfo *
sp_vtpm_domain_by_uuid(VtpmDomain *vd, const char *uuid, gboolean *active)
{
    virDomainPtr d =
        vd->conn ? sp_virt.DomainLookupByUUIDString(vd->conn, uuid) : NULL;
    SpDomainInfo *info;

    if (!d)
        return NULL;
    info = domain_info(d, active, NULL);
    sp_virt.DomainFree(d);
    return info;
}

void
sp_vtpm_domain_clear(VtpmDomain *vd)
{
    g_clear_pointer(&vd->dom, sp_domain_info_free);
    if (vd->conn)
        sp_virt.ConnectClose(vd->conn);
    vd->conn = NULL;
}
