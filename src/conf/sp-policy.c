/* The site policy: built-in defaults and the GLib key file that overrides
 * them. Every key is checked when loaded, so later code can trust the struct.
 */
#include "conf/sp-policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/sp-policy-private.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

/* A policy file is a few KiB; anything this big is not one. */
#define SP_POLICY_MAX (1024 * 1024)

/* Formats safepool can publish: qemu-img creates them and the inspector
 * passes what it creates. qed (always refused by the inspector) and iso
 * (never created) are not among them, so a policy naming them is wrong. */
#define SP_VOLUME_FORMATS                                                      \
    (SP_FORMAT_BIT(SP_FORMAT_RAW) | SP_FORMAT_BIT(SP_FORMAT_QCOW2) |           \
     SP_FORMAT_BIT(SP_FORMAT_VMDK) | SP_FORMAT_BIT(SP_FORMAT_VPC) |            \
     SP_FORMAT_BIT(SP_FORMAT_VHDX) | SP_FORMAT_BIT(SP_FORMAT_VDI))

static const char *const default_owners[] = {"root", "libvirt-qemu", NULL};
static const char *const default_groups[] = {"root", "kvm", "libvirt-qemu",
                                             NULL};

/* The only keys a policy file may contain, per group. */
static const char *const keys_volumes[] = {"formats",
                                           "max_capacity",
                                           "default_mode",
                                           "allowed_owners",
                                           "allowed_groups",
                                           "backing_roots",
                                           NULL};
static const char *const keys_pools[] = {"allow_shared_write", NULL};
static const char *const keys_inspector[] = {
    "allow_extended_l2", "luks_versions", "max_image_read", NULL};
static const char *const keys_qemu_img[] = {
    "qemu_img", "timeout", "cpu_limit", "address_space_limit", "sandbox", NULL};
static const char *const keys_luks[] = {
    "cipher_alg", "cipher_mode", "hash", "ivgen_alg",
    "ivgen_hash", "iter_time",   NULL};
static const char *const keys_vtpm[] = {"root",
                                        "swtpm_user",
                                        "swtpm_group",
                                        "qemu_conf",
                                        "archive_max_size",
                                        "require_sealed",
                                        "argon2_memory",
                                        "argon2_iterations",
                                        "argon2_max_memory",
                                        "argon2_max_iterations",
                                        NULL};

static const struct {
    const char *group;
    const char *const *keys;
} policy_groups[] = {
    {"volumes", keys_volumes},     {"pools", keys_pools},
    {"inspector", keys_inspector}, {"qemu-img", keys_qemu_img},
    {"luks", keys_luks},           {"vtpm", keys_vtpm},
    {"rbd", sp_policy_rbd_keys},
};

char **
sp_policy_known_keys(void)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();

    for (guint g = 0; g < G_N_ELEMENTS(policy_groups); g++) {
        for (guint k = 0; policy_groups[g].keys[k]; k++)
            g_ptr_array_add(all,
                            g_strdup_printf("%s.%s", policy_groups[g].group,
                                            policy_groups[g].keys[k]));
    }
    g_ptr_array_add(all, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&all), FALSE);
}

static void
fill_ids(GArray *arr, const char *const *names, gboolean is_group)
{
    for (guint i = 0; names[i]; i++) {
        if (is_group) {
            gid_t gid;
            if (sp_policy_resolve_group(names[i], &gid))
                g_array_append_val(arr, gid);
        } else {
            uid_t uid;
            if (sp_policy_resolve_user(names[i], &uid))
                g_array_append_val(arr, uid);
        }
    }
}

SpPolicy *
sp_policy_new_default(void)
{
    SpPolicy *p = g_new0(SpPolicy, 1);

    p->allowed_formats =
        SP_FORMAT_BIT(SP_FORMAT_RAW) | SP_FORMAT_BIT(SP_FORMAT_QCOW2);
    p->max_capacity = G_GUINT64_CONSTANT(16) << 40;
    p->default_mode = 0600;
    p->allowed_owners = g_array_new(FALSE, FALSE, sizeof(uid_t));
    p->allowed_groups = g_array_new(FALSE, FALSE, sizeof(gid_t));
    /* Missing default accounts (no libvirt-qemu on this host) are skipped. */
    fill_ids(p->allowed_owners, default_owners, FALSE);
    fill_ids(p->allowed_groups, default_groups, TRUE);
    p->backing_roots = g_new0(char *, 1);

    p->allow_extended_l2 = TRUE;
    p->luks_versions = (1u << 1) | (1u << 2);
    p->max_image_read = 1024 * 1024;

    p->qemu_img = g_strdup("/usr/bin/qemu-img");
    p->timeout_sec = 3600;
    p->cpu_limit_sec = 1800;
    p->as_limit_bytes = G_GUINT64_CONSTANT(4) << 30;
    p->sandbox = TRUE;

    p->luks_cipher_alg = g_strdup("aes-256");
    p->luks_cipher_mode = g_strdup("xts");
    p->luks_hash = g_strdup("sha256");
    p->luks_ivgen_alg = g_strdup("plain64");
    p->luks_ivgen_hash = g_strdup("sha256");
    p->luks_iter_time_ms = 2000;

    p->vtpm_root = g_strdup("/var/lib/libvirt/swtpm");
    p->swtpm_user = NULL;
    p->swtpm_group = NULL;
    p->qemu_conf = g_strdup("/etc/libvirt/qemu.conf");
    p->vtpm_archive_max = G_GUINT64_CONSTANT(64) << 20;
    p->vtpm_require_sealed = TRUE;
    p->vtpm_argon2_memory = G_GUINT64_CONSTANT(256) << 20;
    p->vtpm_argon2_iterations = 3;
    p->vtpm_argon2_max_memory = G_GUINT64_CONSTANT(1) << 30;
    p->vtpm_argon2_max_iterations = 10;
    sp_policy_rbd_defaults(p);
    return p;
}

void
sp_policy_free(SpPolicy *p)
{
    if (!p)
        return;
    if (p->allowed_owners)
        g_array_unref(p->allowed_owners);
    if (p->allowed_groups)
        g_array_unref(p->allowed_groups);
    g_strfreev(p->backing_roots);
    g_free(p->qemu_img);
    g_free(p->luks_cipher_alg);
    g_free(p->luks_cipher_mode);
    g_free(p->luks_hash);
    g_free(p->luks_ivgen_alg);
    g_free(p->luks_ivgen_hash);
    g_free(p->vtpm_root);
    g_free(p->swtpm_user);
    g_free(p->swtpm_group);
    g_free(p->qemu_conf);
    g_free(p->rbd_data_pool);
    g_strfreev(p->rbd_namespaces);
    g_free(p);
}

/* ---- loading ---------------------------------------------------------- */

static gboolean
load_ids(const SpPolicyLoader *l, const char *key, gboolean is_group,
         GArray **out, GError **error)
{
    g_auto(GStrv) names = sp_policy_list(l, "volumes", key);
    g_autoptr(GArray) arr = NULL;

    if (!names)
        return TRUE;
    arr = g_array_new(FALSE, FALSE, is_group ? sizeof(gid_t) : sizeof(uid_t));
    for (guint i = 0; names[i]; i++) {
        if (!*names[i])
            continue;
        if (is_group) {
            gid_t gid;
            if (!sp_policy_resolve_group(names[i], &gid))
                return sp_policy_bad_value(l, "volumes", key, names[i],
                                           _("no such group"), error);
            g_array_append_val(arr, gid);
        } else {
            uid_t uid;
            if (!sp_policy_resolve_user(names[i], &uid))
                return sp_policy_bad_value(l, "volumes", key, names[i],
                                           _("no such user"), error);
            g_array_append_val(arr, uid);
        }
    }
    g_array_unref(*out);
    *out = g_steal_pointer(&arr);
    return TRUE;
}

static gboolean
load_volumes(const SpPolicyLoader *l, SpPolicy *p, GError **error)
{
    g_auto(GStrv) formats = sp_policy_list(l, "volumes", "formats");
    g_auto(GStrv) roots = sp_policy_list(l, "volumes", "backing_roots");
    g_autofree char *mode = sp_policy_value(l, "volumes", "default_mode");

    if (formats) {
        p->allowed_formats = 0;
        for (guint i = 0; formats[i]; i++) {
            SpFormat f = sp_format_from_string(formats[i]);
            if (!*formats[i])
                continue;
            if (f == SP_FORMAT_UNKNOWN ||
                !(SP_FORMAT_BIT(f) & SP_VOLUME_FORMATS))
                return sp_policy_bad_value(
                    l, "volumes", "formats", formats[i],
                    _("not a format safepool publishes (raw, "
                      "qcow2, vmdk, vpc, vhdx, vdi)"),
                    error);
            p->allowed_formats |= SP_FORMAT_BIT(f);
        }
    }
    if (!sp_policy_load_size(l, "volumes", "max_capacity", &p->max_capacity,
                             error))
        return FALSE;
    if (mode) {
        guint64 m;
        if (!g_ascii_string_to_unsigned(mode, 8, 0, 07777, &m, NULL))
            return sp_policy_bad_value(l, "volumes", "default_mode", mode,
                                       _("not an octal mode"), error);
        if (m & (S_ISUID | S_ISGID | S_ISVTX))
            return sp_policy_bad_value(
                l, "volumes", "default_mode", mode,
                _("setuid, setgid and sticky bits are not "
                  "allowed"),
                error);
        if (m & S_IWOTH)
            return sp_policy_bad_value(l, "volumes", "default_mode", mode,
                                       _("world-writable is not allowed"),
                                       error);
        p->default_mode = (guint32)m;
    }
    if (!load_ids(l, "allowed_owners", FALSE, &p->allowed_owners, error) ||
        !load_ids(l, "allowed_groups", TRUE, &p->allowed_groups, error))
        return FALSE;
    if (roots) {
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; roots[i]; i++) {
            g_autoptr(GError) local = NULL;
            char *norm;
            if (!*roots[i])
                continue;
            norm = sp_fs_normalize_abs(roots[i], &local);
            if (!norm || g_str_equal(norm, "/")) {
                g_free(norm);
                return sp_policy_bad_value(
                    l, "volumes", "backing_roots", roots[i],
                    _("not a clean absolute directory other "
                      "than '/'"),
                    error);
            }
            g_ptr_array_add(out, norm);
        }
        g_ptr_array_add(out, NULL);
        g_strfreev(p->backing_roots);
        p->backing_roots = (char **)g_ptr_array_steal(out, NULL);
    }
    return TRUE;
}

static gboolean
load_inspector(const SpPolicyLoader *l, SpPolicy *p, GError **error)
{
    g_auto(GStrv) versions = sp_policy_list(l, "inspector", "luks_versions");

    if (!sp_policy_load_bool(l, "inspector", "allow_extended_l2",
                             &p->allow_extended_l2, error) ||
        !sp_policy_load_bool(l, "pools", "allow_shared_write",
                             &p->allow_shared_write, error))
        return FALSE;
    if (versions) {
        p->luks_versions = 0;
        for (guint i = 0; versions[i]; i++) {
            guint64 v;
            if (!*versions[i])
                continue;
            if (!g_ascii_string_to_unsigned(versions[i], 10, 1, 2, &v, NULL))
                return sp_policy_bad_value(
                    l, "inspector", "luks_versions", versions[i],
                    _("LUKS version must be 1 or 2"), error);
            p->luks_versions |= 1u << v;
        }
    }
    return sp_policy_load_size(l, "inspector", "max_image_read",
                               &p->max_image_read, error);
}

/* Argon2id parameters: a sealed archive's header carries memory in KiB
 * and iterations as 32-bit numbers; libsodium needs at least 8 KiB and 1. */
static gboolean
load_argon2(const SpPolicyLoader *l, SpPolicy *p, GError **error)
{
    static const char *const mem_keys[] = {"argon2_memory",
                                           "argon2_max_memory"};
    guint64 *mem[] = {&p->vtpm_argon2_memory, &p->vtpm_argon2_max_memory};
    g_autofree char *v = NULL;

    for (guint i = 0; i < 2; i++) {
        if (!sp_policy_load_size(l, "vtpm", mem_keys[i], mem[i], error))
            return FALSE;
        if (*mem[i] < 8192 || *mem[i] % 1024 ||
            *mem[i] > (guint64)G_MAXUINT32 * 1024) {
            v = sp_policy_value(l, "vtpm", mem_keys[i]);
            return sp_policy_bad_value(
                l, "vtpm", mem_keys[i], v,
                _("not a whole number of KiB from 8K to 4T"), error);
        }
    }
    if (!sp_policy_load_uint(l, "vtpm", "argon2_iterations", G_MAXUINT32,
                             &p->vtpm_argon2_iterations, error) ||
        !sp_policy_load_uint(l, "vtpm", "argon2_max_iterations", G_MAXUINT32,
                             &p->vtpm_argon2_max_iterations, error))
        return FALSE;
    if (p->vtpm_argon2_max_memory < p->vtpm_argon2_memory ||
        p->vtpm_argon2_max_iterations < p->vtpm_argon2_iterations) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("policy file '%s': [vtpm] argon2_max_memory and "
                      "argon2_max_iterations must be at least argon2_memory "
                      "and argon2_iterations"),
                    l->path);
        return FALSE;
    }
    return TRUE;
}

static gboolean
load_rest(const SpPolicyLoader *l, SpPolicy *p, GError **error)
{
    guint64 v;

    if (!sp_policy_load_abs_path(l, "qemu-img", "qemu_img", &p->qemu_img,
                                 error))
        return FALSE;
    v = p->timeout_sec;
    if (!sp_policy_load_uint(l, "qemu-img", "timeout", G_MAXUINT32 / 1000, &v,
                             error))
        return FALSE;
    p->timeout_sec = (guint)v;
    if (!sp_policy_load_uint(l, "qemu-img", "cpu_limit", G_MAXUINT32,
                             &p->cpu_limit_sec, error) ||
        !sp_policy_load_size(l, "qemu-img", "address_space_limit",
                             &p->as_limit_bytes, error) ||
        !sp_policy_load_bool(l, "qemu-img", "sandbox", &p->sandbox, error))
        return FALSE;

    if (!sp_policy_load_string(l, "luks", "cipher_alg", FALSE,
                               &p->luks_cipher_alg, error) ||
        !sp_policy_load_string(l, "luks", "cipher_mode", FALSE,
                               &p->luks_cipher_mode, error) ||
        !sp_policy_load_string(l, "luks", "hash", FALSE, &p->luks_hash,
                               error) ||
        !sp_policy_load_string(l, "luks", "ivgen_alg", FALSE,
                               &p->luks_ivgen_alg, error) ||
        !sp_policy_load_string(l, "luks", "ivgen_hash", FALSE,
                               &p->luks_ivgen_hash, error))
        return FALSE;
    v = p->luks_iter_time_ms;
    if (!sp_policy_load_uint(l, "luks", "iter_time", 3600 * 1000, &v, error))
        return FALSE;
    p->luks_iter_time_ms = (guint)v;

    if (!sp_policy_load_abs_path(l, "vtpm", "root", &p->vtpm_root, error) ||
        !sp_policy_load_string(l, "vtpm", "swtpm_user", TRUE, &p->swtpm_user,
                               error) ||
        !sp_policy_load_string(l, "vtpm", "swtpm_group", TRUE, &p->swtpm_group,
                               error) ||
        !sp_policy_load_abs_path(l, "vtpm", "qemu_conf", &p->qemu_conf,
                                 error) ||
        !sp_policy_load_size(l, "vtpm", "archive_max_size",
                             &p->vtpm_archive_max, error) ||
        !sp_policy_load_bool(l, "vtpm", "require_sealed",
                             &p->vtpm_require_sealed, error))
        return FALSE;
    return load_argon2(l, p, error);
}

/* Refuse what the loaders would silently ignore: misspelt keys are the
 * usual way a site's policy quietly fails to apply. */
static gboolean
check_known_keys(const SpPolicyLoader *l, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(l->kf, NULL);

    for (guint i = 0; groups[i]; i++) {
        const char *const *known = NULL;
        g_auto(GStrv) keys = NULL;

        for (guint g = 0; g < G_N_ELEMENTS(policy_groups); g++) {
            if (g_str_equal(groups[i], policy_groups[g].group))
                known = policy_groups[g].keys;
        }
        if (!known) {
            g_autofree char *shown = sp_error_escape(groups[i]);
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("policy file '%s': unknown group '[%s]'"), l->path,
                        shown);
            return FALSE;
        }
        keys = g_key_file_get_keys(l->kf, groups[i], NULL, NULL);
        for (guint k = 0; keys && keys[k]; k++) {
            if (!g_strv_contains(known, keys[k])) {
                g_autofree char *shown = sp_error_escape(keys[k]);
                g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                            _("policy file '%s': unknown key '%s.%s'"), l->path,
                            groups[i], shown);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* GKeyFile keeps the last of duplicate keys silently: a site that sets a
 * key twice would not get the value it reads first. Refuse it. */
static gboolean
check_duplicates(const char *data, const char *path, GError **error)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    g_autoptr(GHashTable) seen =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *group = g_strdup("");

    for (guint i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        char *eq = strchr(l, '=');

        if (*l == '#' || *l == '\0')
            continue;
        if (*l == '[') {
            g_free(group);
            group = g_strdup(l);
            continue;
        }
        if (!eq)
            continue;
        *eq = '\0';
        g_strstrip(l);
        if (!g_hash_table_add(seen, g_strconcat(group, l, NULL))) {
            g_autofree char *key = sp_error_escape(l);
            g_autofree char *in = sp_error_escape(group);
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("policy file '%s': key '%s' in %s is given more "
                          "than once"),
                        path, key, *group ? in : _("the file"));
            return FALSE;
        }
    }
    return TRUE;
}

SpPolicy *
sp_policy_load_data(const char *data, gsize len, const char *path,
                    GError **error)
{
    g_autoptr(SpPolicy) p = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_autofree char *text = g_strndup(data, len);
    SpPolicyLoader l;

    /* The duplicate check reads the text up to a NUL, GKeyFile reads on
     * past it: a key repeated after a NUL would take effect unchecked. A
     * policy file is text; refuse the byte instead. */
    if (memchr(data, '\0', len)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("policy file '%s': contains a NUL byte"), path);
        return NULL;
    }
    if (!check_duplicates(text, path, error))
        return NULL;
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
        /* GLib quotes the offending line */
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("policy file '%s': %s"), path,
                    sp_error_one_line(local->message));
        return NULL;
    }
    l.kf = kf;
    l.path = path;
    if (!check_known_keys(&l, error))
        return NULL;

    p = sp_policy_new_default();
    if (!load_volumes(&l, p, error) || !load_inspector(&l, p, error) ||
        !load_rest(&l, p, error) || !sp_policy_load_rbd(&l, p, error))
        return NULL;
    return g_steal_pointer(&p);
}

SpPolicy *
sp_policy_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    const char *env;

    if (!path) {
        env = g_getenv("SAFEPOOL_CONFIG");
        if (env && *env)
            path = env;
        else if (g_file_test(SP_POLICY_DEFAULT_PATH, G_FILE_TEST_EXISTS))
            path = SP_POLICY_DEFAULT_PATH;
        else
            return sp_policy_new_default();
    }
    data = sp_fs_read_input(path, _("policy file"), SP_POLICY_MAX, &len, error);
    if (!data)
        return NULL;
    return sp_policy_load_data(data, len, path, error);
}
