/* Helpers shared by sp-policy*.c only. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* A user or group by name, or numeric ("107" or libvirt's "+107"). */
gboolean sp_policy_resolve_user(const char *name, uid_t *uid);
gboolean sp_policy_resolve_group(const char *name, gid_t *gid);
