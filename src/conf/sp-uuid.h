/* UUIDs as libvirt writes and takes them. */
#pragma once

#include <glib.h>

/* Canonical lowercase "8-4-4-4-12" form of a uuid given with or without
 * dashes; SP_ERROR_INVALID naming it otherwise. */
char *sp_uuid_normalize(const char *uuid, GError **error);
