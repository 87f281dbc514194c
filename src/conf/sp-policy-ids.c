/* The site policy's values: sizes, names of users and groups, and who owns
 * vTPM state (the swtpm user/group rule shared with libvirt's qemu.conf). */
#include "conf/sp-policy.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "conf/sp-policy-private.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"

/* Numeric id: plain decimal, or libvirt's "+N" form. */
static gboolean
parse_numeric_id(const char *s, guint32 *out)
{
    guint64 v;

    if (*s == '+')
        s++;
    if (!g_ascii_isdigit(*s))
        return FALSE;
    if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT32 - 1, &v, NULL))
        return FALSE;
    *out = (guint32)v;
    return TRUE;
}

gboolean
sp_policy_resolve_user(const char *name, uid_t *uid)
{
    guint32 id;
    struct passwd *pw;

    if (parse_numeric_id(name, &id)) {
        *uid = (uid_t)id;
        return TRUE;
    }
    pw = getpwnam(name);
    if (!pw)
        return FALSE;
    *uid = pw->pw_uid;
    return TRUE;
}

gboolean
sp_policy_resolve_group(const char *name, gid_t *gid)
{
    guint32 id;
    struct group *gr;

    if (parse_numeric_id(name, &id)) {
        *gid = (gid_t)id;
        return TRUE;
    }
    gr = getgrnam(name);
    if (!gr)
        return FALSE;
    *gid = gr->gr_gid;
    return TRUE;
}

/* ---- swtpm identity ---------------------------------------------------- */

/* Value of `key = "value"` in libvirt's qemu.conf syntax; NULL if unset or
 * the file is missing. Only the simple string form is understood. */
static char *
qemu_conf_string(const char *path, const char *key)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    char *found = NULL;

    if (!path || !g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        gsize klen = strlen(key);
        char *v;
        char *end;

        if (*line == '#' || strncmp(line, key, klen) != 0)
            continue;
        v = line + klen;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != '=')
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != '"')
            continue;
        v++;
        end = strchr(v, '"');
        if (!end)
            continue;
        g_free(found); /* the last assignment wins, as in libvirt */
        found = g_strndup(v, (gsize)(end - v));
    }
    return found;
}

gboolean
sp_policy_swtpm_ids(const SpPolicy *p, uid_t *uid, gid_t *gid, GError **error)
{
    g_autofree char *conf_user = NULL;
    g_autofree char *conf_group = NULL;
    const char *user = p->swtpm_user;
    const char *group = p->swtpm_group;
    const char *user_from = _("policy key vtpm.swtpm_user");
    const char *group_from = _("policy key vtpm.swtpm_group");

    if (!user) {
        conf_user = qemu_conf_string(p->qemu_conf, "swtpm_user");
        user = conf_user;
        user_from = p->qemu_conf;
    }
    if (!group) {
        conf_group = qemu_conf_string(p->qemu_conf, "swtpm_group");
        group = conf_group;
        group_from = p->qemu_conf;
    }

    if (user) {
        if (!sp_policy_resolve_user(user, uid)) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("swtpm user '%s' (from %s): no such user"), user,
                        user_from);
            return FALSE;
        }
    } else if (!sp_policy_resolve_user("tss", uid)) {
        *uid = 0;
    }
    if (group) {
        if (!sp_policy_resolve_group(group, gid)) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("swtpm group '%s' (from %s): no such group"), group,
                        group_from);
            return FALSE;
        }
    } else if (!sp_policy_resolve_group("tss", gid)) {
        *gid = 0;
    }
    return TRUE;
}

gboolean
sp_parse_size(const char *s, guint64 *out, GError **error)
{
    const char *p = s;
    const char *suffix;
    guint64 value = 0;
    guint64 scale = 1;
    guint power = 0;

    if (!s || !g_ascii_isdigit(*s)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("size '%s': not a non-negative integer"), s ? s : "");
        return FALSE;
    }
    for (; g_ascii_isdigit(*p); p++) {
        guint d = (guint)(*p - '0');
        if (value > (G_MAXUINT64 - d) / 10) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("size '%s': too large"), s);
            return FALSE;
        }
        value = value * 10 + d;
    }
    suffix = p;
    if (*suffix) {
        static const char letters[] = "kmgtpe";
        const char *pos = strchr(letters, g_ascii_tolower(*suffix));
        const char *rest = suffix + 1;

        if (g_ascii_strcasecmp(suffix, "b") == 0) {
            rest = "";
        } else if (!pos || *suffix == '\0') {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("size '%s': unknown suffix '%s'"), s, suffix);
            return FALSE;
        } else {
            power = (guint)(pos - letters) + 1;
        }
        /* K, KB and KiB all mean 1024 here: the policy only speaks binary
         * units (unlike volume XML, where KB is 1000). */
        if (*rest && g_ascii_strcasecmp(rest, "b") != 0 &&
            g_ascii_strcasecmp(rest, "ib") != 0) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("size '%s': unknown suffix '%s'"), s, suffix);
            return FALSE;
        }
    }
    for (guint i = 0; i < power; i++)
        scale *= 1024;
    if (value > G_MAXUINT64 / scale) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("size '%s': too large"), s);
        return FALSE;
    }
    *out = value * scale;
    return TRUE;
}
