/* Reading one key of a policy file: the value, checked by kind (size,
 * number, boolean, string, absolute path, list), or one error naming the
 * file, key and value (sp-policy-private.h). */
#include "conf/sp-policy-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

/* The file's text (values, and names of groups and keys) is shown through
 * sp_error_escape: a control character in it must not break the one-line
 * error. */
gboolean
sp_policy_bad_value(const SpPolicyLoader *l, const char *group, const char *key,
                    const char *value, const char *why, GError **error)
{
    g_autofree char *shown = sp_error_escape(value);

    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("policy file '%s': key '%s.%s' = '%s': %s"), l->path, group,
                key, shown, why);
    return FALSE;
}

/* Raw value of @group.@key with surrounding blanks removed, NULL if absent. */
char *
sp_policy_value(const SpPolicyLoader *l, const char *group, const char *key)
{
    char *v = g_key_file_get_value(l->kf, group, key, NULL);

    return v ? g_strstrip(v) : NULL;
}

gboolean
sp_policy_load_size(const SpPolicyLoader *l, const char *group, const char *key,
                    guint64 *out, GError **error)
{
    g_autofree char *v = sp_policy_value(l, group, key);
    g_autoptr(GError) local = NULL;

    if (!v)
        return TRUE;
    if (!sp_parse_size(v, out, &local))
        return sp_policy_bad_value(l, group, key, v, _("not a size"), error);
    return TRUE;
}

gboolean
sp_policy_load_uint(const SpPolicyLoader *l, const char *group, const char *key,
                    guint64 max, guint64 *out, GError **error)
{
    g_autofree char *v = sp_policy_value(l, group, key);

    if (!v)
        return TRUE;
    if (!g_ascii_isdigit(*v) ||
        !g_ascii_string_to_unsigned(v, 10, 1, max, out, NULL))
        return sp_policy_bad_value(l, group, key, v,
                                   _("not a positive integer"), error);
    return TRUE;
}

gboolean
sp_policy_load_abs_path(const SpPolicyLoader *l, const char *group,
                        const char *key, char **out, GError **error)
{
    g_autofree char *v = sp_policy_value(l, group, key);
    g_autoptr(GError) local = NULL;
    char *norm;

    if (!v)
        return TRUE;
    norm = sp_fs_normalize_abs(v, &local);
    if (!norm)
        return sp_policy_bad_value(l, group, key, v,
                                   _("not a clean absolute path"), error);
    g_free(*out);
    *out = norm;
    return TRUE;
}

gboolean
sp_policy_load_string(const SpPolicyLoader *l, const char *group,
                      const char *key, gboolean allow_empty, char **out,
                      GError **error)
{
    g_autofree char *v = sp_policy_value(l, group, key);

    if (!v)
        return TRUE;
    for (const char *c = v; *c; c++) {
        if (g_ascii_iscntrl(*c) || *c == ',' || *c == ' ')
            return sp_policy_bad_value(
                l, group, key, v,
                _("contains a space, ',' or control character"), error);
    }
    if (!*v && !allow_empty)
        return sp_policy_bad_value(l, group, key, "", _("must not be empty"),
                                   error);
    g_free(*out);
    *out = *v ? g_steal_pointer(&v) : NULL;
    return TRUE;
}

char **
sp_policy_list(const SpPolicyLoader *l, const char *group, const char *key)
{
    char **list = g_key_file_get_string_list(l->kf, group, key, NULL, NULL);

    if (!list) /* an empty value gives NULL, not an empty list */
        return g_key_file_has_key(l->kf, group, key, NULL) ? g_new0(char *, 1)
                                                           : NULL;
    for (guint i = 0; list[i]; i++)
        g_strstrip(list[i]);
    return list;
}

gboolean
sp_policy_load_bool(const SpPolicyLoader *l, const char *group, const char *key,
                    gboolean *out, GError **error)
{
    g_autofree char *v = sp_policy_value(l, group, key);

    if (!v)
        return TRUE;
    if (g_str_equal(v, "true"))
        *out = TRUE;
    else if (g_str_equal(v, "false"))
        *out = FALSE;
    else
        return sp_policy_bad_value(l, group, key, v, _("not 'true' or 'false'"),
                                   error);
    return TRUE;
}
