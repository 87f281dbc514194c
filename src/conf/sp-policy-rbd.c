/* The [rbd] group of the site policy: image features, data pool,
 * namespace confinement and the time limits of RBD pools. */
#include <string.h>

#include "conf/sp-policy-private.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"

const char *const sp_policy_rbd_keys[] = {
    "features_allowed",  "features", "data_pool",  "namespaces",
    "require_namespace", "timeout",  "lock_lease", "lock_wait",
    "flatten_clones",    NULL};

static const struct {
    const char *name;
    guint64 bit;
} sp_rbd_features[] = {
    {"layering", SP_RBD_FEATURE_LAYERING},
    {"exclusive-lock", SP_RBD_FEATURE_EXCLUSIVE_LOCK},
    {"object-map", SP_RBD_FEATURE_OBJECT_MAP},
    {"fast-diff", SP_RBD_FEATURE_FAST_DIFF},
    {"deep-flatten", SP_RBD_FEATURE_DEEP_FLATTEN},
};

#define SP_RBD_FEATURES_ALL                                                    \
    (SP_RBD_FEATURE_LAYERING | SP_RBD_FEATURE_EXCLUSIVE_LOCK |                 \
     SP_RBD_FEATURE_OBJECT_MAP | SP_RBD_FEATURE_FAST_DIFF |                    \
     SP_RBD_FEATURE_DEEP_FLATTEN)

void
sp_policy_rbd_defaults(SpPolicy *p)
{
    /* librbd's own default set (0x3d): what `rbd create` gives */
    p->rbd_features_allowed = SP_RBD_FEATURES_ALL;
    p->rbd_features = SP_RBD_FEATURES_ALL;
    p->rbd_data_pool = NULL;
    p->rbd_namespaces = g_new0(char *, 1);
    p->rbd_require_namespace = FALSE;
    p->rbd_timeout_sec = 30;
    p->rbd_lock_lease_sec = 30;
    p->rbd_lock_wait_sec = 60;
    p->rbd_flatten_clones = FALSE;
}

gboolean
sp_rbd_features_parse(const char *const *names, guint64 *out, GError **error)
{
    guint64 f = 0;

    for (guint i = 0; names && names[i]; i++) {
        g_auto(GStrv) parts = g_strsplit(names[i], ",", -1);

        for (guint j = 0; parts[j]; j++) {
            const char *n = g_strstrip(parts[j]);
            gboolean known = FALSE;

            if (!*n)
                continue;
            for (gsize k = 0; k < G_N_ELEMENTS(sp_rbd_features); k++) {
                if (g_str_equal(n, sp_rbd_features[k].name)) {
                    f |= sp_rbd_features[k].bit;
                    known = TRUE;
                }
            }
            if (!known) {
                g_autofree char *shown = g_strescape(n, NULL);

                g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                            _("RBD image feature '%s' is not one of layering, "
                              "exclusive-lock, object-map, fast-diff, "
                              "deep-flatten"),
                            shown);
                return FALSE;
            }
        }
    }
    if ((f & SP_RBD_FEATURE_OBJECT_MAP) &&
        !(f & SP_RBD_FEATURE_EXCLUSIVE_LOCK)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("RBD image feature object-map needs exclusive-lock"));
        return FALSE;
    }
    if ((f & SP_RBD_FEATURE_FAST_DIFF) && !(f & SP_RBD_FEATURE_OBJECT_MAP)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("RBD image feature fast-diff needs object-map"));
        return FALSE;
    }
    *out = f;
    return TRUE;
}

char *
sp_rbd_features_to_string(guint64 features)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (gsize k = 0; k < G_N_ELEMENTS(sp_rbd_features); k++) {
        if (!(features & sp_rbd_features[k].bit))
            continue;
        if (s->len)
            g_string_append_c(s, ',');
        g_string_append(s, sp_rbd_features[k].name);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* A RADOS pool or namespace name as policy and pool XML may give it. */
static gboolean
rados_name_ok(const char *n)
{
    if (!*n || strlen(n) > 255 || !g_utf8_validate(n, -1, NULL))
        return FALSE;
    for (const char *c = n; *c; c++) {
        if (g_ascii_iscntrl(*c) || *c == '/' || *c == '@' || *c == ' ')
            return FALSE;
    }
    return TRUE;
}

static gboolean
load_features(const SpPolicyLoader *l, const char *key, guint64 *out,
              GError **error)
{
    g_auto(GStrv) names = sp_policy_list(l, "rbd", key);
    g_autoptr(GError) local = NULL;

    if (!names)
        return TRUE;
    if (!sp_rbd_features_parse((const char *const *)names, out, &local)) {
        g_autofree char *joined = g_strjoinv(";", names);

        return sp_policy_bad_value(l, "rbd", key, joined, local->message,
                                   error);
    }
    return TRUE;
}

static gboolean
load_namespaces(const SpPolicyLoader *l, SpPolicy *p, GError **error)
{
    g_auto(GStrv) specs = sp_policy_list(l, "rbd", "namespaces");
    g_autoptr(GPtrArray) out = NULL;

    if (!specs)
        return TRUE;
    out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; specs[i]; i++) {
        g_auto(GStrv) parts = NULL;

        if (!*specs[i])
            continue;
        parts = g_strsplit(specs[i], "/", 3);
        if (!rados_name_ok(parts[0]) || (parts[1] && parts[2]) ||
            (parts[1] && !g_str_equal(parts[1], "*") &&
             !rados_name_ok(parts[1])))
            return sp_policy_bad_value(l, "rbd", "namespaces", specs[i],
                                       _("not POOL, POOL/NAMESPACE or POOL/*"),
                                       error);
        g_ptr_array_add(out, g_strdup(specs[i]));
    }
    g_ptr_array_add(out, NULL);
    g_strfreev(p->rbd_namespaces);
    p->rbd_namespaces = (char **)g_ptr_array_steal(out, NULL);
    return TRUE;
}

static gboolean
load_seconds(const SpPolicyLoader *l, const char *key, guint *out,
             GError **error)
{
    guint64 v = *out;

    if (!sp_policy_load_uint(l, "rbd", key, 24 * 3600, &v, error))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

gboolean
sp_policy_load_rbd(const SpPolicyLoader *l, SpPolicy *p, GError **error)
{
    if (!load_features(l, "features_allowed", &p->rbd_features_allowed,
                       error) ||
        !load_features(l, "features", &p->rbd_features, error))
        return FALSE;
    if (p->rbd_features & ~p->rbd_features_allowed) {
        g_autofree char *extra = sp_rbd_features_to_string(
            p->rbd_features & ~p->rbd_features_allowed);

        return sp_policy_bad_value(l, "rbd", "features", extra,
                                   _("not in features_allowed"), error);
    }
    if (!sp_policy_load_string(l, "rbd", "data_pool", TRUE, &p->rbd_data_pool,
                               error))
        return FALSE;
    if (p->rbd_data_pool && !rados_name_ok(p->rbd_data_pool))
        return sp_policy_bad_value(l, "rbd", "data_pool", p->rbd_data_pool,
                                   _("not a RADOS pool name"), error);
    if (!load_namespaces(l, p, error) ||
        !sp_policy_load_bool(l, "rbd", "require_namespace",
                             &p->rbd_require_namespace, error) ||
        !load_seconds(l, "timeout", &p->rbd_timeout_sec, error) ||
        !load_seconds(l, "lock_lease", &p->rbd_lock_lease_sec, error) ||
        !load_seconds(l, "lock_wait", &p->rbd_lock_wait_sec, error) ||
        !sp_policy_load_bool(l, "rbd", "flatten_clones", &p->rbd_flatten_clones,
                             error))
        return FALSE;
    return TRUE;
}
