/* libvirt storage pool XML as the CLI takes it (--pool-xml): a dir pool's
 * target path, or an rbd pool's monitors, POOL[/NAMESPACE] and cephx
 * user. Parsed safely (no DTD, no network); nothing is opened. */
#pragma once

#include <glib.h>

typedef enum {
    SP_POOL_XML_DIR,
    SP_POOL_XML_RBD,
} SpPoolXmlType;

typedef struct {
    SpPoolXmlType type;
    char *name;        /* <name> */
    char *target_path; /* dir: <target><path> (absolute, normalised) */
    char *source_name; /* rbd: <source><name> POOL or POOL/NAMESPACE */
    char **monitors;   /* rbd: <host name= port=> as "name[:port]" */
    char *auth_user;   /* rbd: <auth type='ceph' username=...> */
} SpPoolXml;

void sp_pool_xml_free(SpPoolXml *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpPoolXml, sp_pool_xml_free)

/* Parse @path (a regular file, size-limited). Pool types other than dir
 * and rbd, and rbd pools without cephx, are refused (SP_ERROR_INVALID);
 * malformed XML is SP_ERROR_XML. */
SpPoolXml *sp_pool_xml_parse_file(const char *path, GError **error);
SpPoolXml *sp_pool_xml_parse(const char *xml, gsize len, GError **error);
