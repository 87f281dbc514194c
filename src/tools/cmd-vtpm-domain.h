/* The domain a vtpm command is about (cmd-vtpm*.c only). */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "conf/sp-domain.h"

typedef struct {
    virConnectPtr conn; /* with --connect */
    SpDomainInfo *dom;  /* the domain named on the command line */
    gboolean active;    /* whether libvirt says it runs */
} VtpmDomain;

/* Read the domain from @domain_xml, or with @connect from libvirt (by
 * @domain, a name or uuid, if given). With @connect the connection is
 * opened in any case: read-write when @rw (volumes, secrets), else
 * read-only. */
gboolean sp_vtpm_domain_open(VtpmDomain *vd, const char *domain_xml,
                             const char *connect, const char *domain,
                             gboolean rw, GError **error);

/* The domain of @uuid through the connection; NULL without one or when
 * libvirt does not know it. */
SpDomainInfo *sp_vtpm_domain_by_uuid(VtpmDomain *vd, const char *uuid,
                                     gboolean *active);

void sp_vtpm_domain_clear(VtpmDomain *vd);
