/* SELinux context syntax, checked lexically: a label from volume or domain
 * XML is never handed to the kernel unless it has this shape. */
#pragma once

#include <glib.h>

/* user:role:type[:level[-level]] without whitespace or control characters,
 * at most 4096 bytes. */
gboolean sp_label_is_valid(const char *label);
