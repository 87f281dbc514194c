/* Helpers shared by sp-policy*.c only. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* A user or group by name, or numeric ("107" or libvirt's "+107"). */
gboolean sp_policy_resolve_user(const char *name, uid_t *uid);
gboolean sp_policy_resolve_group(const char *name, gid_t *gid);

#include "conf/sp-policy.h"

/* A policy file being loaded (sp-policy.c and sp-policy-rbd.c). */
typedef struct {
    GKeyFile *kf;
    const char *path;
} SpPolicyLoader;

/* "policy file '<path>': key '<group>.<key>' = '<value>': <why>"; FALSE. */
gboolean sp_policy_bad_value(const SpPolicyLoader *l, const char *group,
                             const char *key, const char *value,
                             const char *why, GError **error);
/* The value with blanks around it removed, NULL if absent. */
char *sp_policy_value(const SpPolicyLoader *l, const char *group,
                      const char *key);
/* A ';'-separated list (empty value: empty list), NULL if absent. */
char **sp_policy_list(const SpPolicyLoader *l, const char *group,
                      const char *key);
/* Each loader leaves *out alone when the key is absent. */
gboolean sp_policy_load_size(const SpPolicyLoader *l, const char *group,
                             const char *key, guint64 *out, GError **error);
gboolean sp_policy_load_uint(const SpPolicyLoader *l, const char *group,
                             const char *key, guint64 max, guint64 *out,
                             GError **error);
gboolean sp_policy_load_bool(const SpPolicyLoader *l, const char *group,
                             const char *key, gboolean *out, GError **error);
/* An absolute path, normalised (no "..", no "//"). */
gboolean sp_policy_load_abs_path(const SpPolicyLoader *l, const char *group,
                                 const char *key, char **out, GError **error);
gboolean sp_policy_load_string(const SpPolicyLoader *l, const char *group,
                               const char *key, gboolean allow_empty,
                               char **out, GError **error);

/* [rbd] (sp-policy-rbd.c): its keys, defaults and loader. */
extern const char *const sp_policy_rbd_keys[];
void sp_policy_rbd_defaults(SpPolicy *p);
gboolean sp_policy_load_rbd(const SpPolicyLoader *l, SpPolicy *p,
                            GError **error);
