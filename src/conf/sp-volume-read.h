/* Safe reading of XML (volume and domain) and schema validation of volume
 * XML (internal to conf/). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* Volume XML larger than this is refused before parsing. */
#define SP_VOLUME_XML_MAX (1024 * 1024)

/* Parse @xml (at most @max bytes) into a tree: no DTD (the parser stops at
 * a DOCTYPE, so no entity is ever declared or expanded), no network.
 * SP_ERROR_XML "<kind> XML element '<el>': ..."; used for volume and
 * domain XML alike. */
xmlDoc *sp_xml_read_safe(const char *kind, const char *xml, gsize len,
                         gsize max, GError **error);

/* Validate against storagevol.rng (cached). SP_ERROR_XML naming the first
 * offending element; SP_ERROR_FAILED if the schema cannot be loaded. */
gboolean sp_volume_validate_doc(xmlDoc *doc, GError **error);

/* "target/permissions/mode" for that element ("volume" for the root). */
char *sp_volume_node_path(const xmlNode *node);

/* Attribute @name of @node (no namespace), or NULL. */
char *sp_xml_attr(const xmlNode *node, const char *name);

/* Whether @node is an element named @name without a namespace. */
gboolean sp_xml_is_element(const xmlNode *node, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
