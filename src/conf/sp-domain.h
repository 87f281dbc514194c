/* Domain <seclabel> elements, uuid, name and emulated TPM, read from domain
 * XML (a file or the text virDomainGetXMLDesc returned). */
#pragma once

#include <glib.h>

typedef struct {
    char *uuid;               /* <uuid> */
    char *name;               /* <name> */
    char *selinux_imagelabel; /* <seclabel model='selinux'><imagelabel>, NULL if
                                 none */
    char *selinux_label;      /* <label>, informational */
    char *selinux_type;       /* "dynamic"/"static"/"none" */
    char *dac_label; /* <seclabel model='dac'><label> (qemu's, not swtpm's) */
    gboolean has_tpm_emulator;
    char *tpm_version; /* "2.0" or "1.2" */
} SpDomainInfo;

SpDomainInfo *sp_domain_info_parse(const char *xml, gsize len, GError **error);
SpDomainInfo *sp_domain_info_parse_file(const char *path, GError **error);
void sp_domain_info_free(SpDomainInfo *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpDomainInfo, sp_domain_info_free)
