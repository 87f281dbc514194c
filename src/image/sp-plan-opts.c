/* The planner's qemu-img option strings (-o key=value,...): escaping,
 * LUKS and qcow2 creation options, and the qcow2-only elements. */
#include "image/sp-plan-private.h"

#include <inttypes.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

char *
sp_plan_size_arg(guint64 size)
{
    return g_strdup_printf("%" PRIu64, size);
}

/* Append "key=value" to an -o option string, escaping the value. */
void
sp_plan_opt_add(GString *opts, const char *key, const char *value)
{
    g_autofree char *esc = sp_plan_escape_opt(value);

    if (opts->len)
        g_string_append_c(opts, ',');
    g_string_append_printf(opts, "%s=%s", key, esc);
}

static const char *
sp_plan_or_default(const char *v, const char *policy_v, const char *builtin)
{
    if (v && *v)
        return v;
    if (policy_v && *policy_v)
        return policy_v;
    return builtin;
}

/* LUKS creation options; @prefix is "encrypt." inside qcow2, "" for luks. */
void
sp_plan_opt_add_luks(GString *opts, const SpPolicy *policy,
                     const SpEncryption *enc, const char *prefix)
{
    g_autofree char *cipher = NULL;
    g_autofree char *iter = NULL;
    const char *keys[] = {"cipher-alg",     "cipher-mode", "ivgen-alg",
                          "ivgen-hash-alg", "hash-alg",    "iter-time"};
    const char *vals[G_N_ELEMENTS(keys)];

    if (enc->cipher_name && enc->cipher_size)
        cipher = g_strdup_printf("%s-%u", enc->cipher_name, enc->cipher_size);
    else if (enc->cipher_name)
        cipher = g_strdup(enc->cipher_name);
    iter = g_strdup_printf(
        "%u", policy->luks_iter_time_ms ? policy->luks_iter_time_ms : 2000);
    vals[0] = sp_plan_or_default(cipher, policy->luks_cipher_alg, "aes-256");
    vals[1] =
        sp_plan_or_default(enc->cipher_mode, policy->luks_cipher_mode, "xts");
    vals[2] =
        sp_plan_or_default(enc->ivgen_name, policy->luks_ivgen_alg, "plain64");
    vals[3] =
        sp_plan_or_default(enc->ivgen_hash, policy->luks_ivgen_hash, "sha256");
    vals[4] = sp_plan_or_default(enc->cipher_hash, policy->luks_hash, "sha256");
    vals[5] = iter;

    if (*prefix) {
        g_autofree char *k = g_strconcat(prefix, "format", NULL);
        sp_plan_opt_add(opts, k, "luks");
    }
    g_autofree char *ks = g_strconcat(prefix, "key-secret", NULL);
    sp_plan_opt_add(opts, ks, SP_PLAN_SECRET_ID);
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *k = g_strconcat(prefix, keys[i], NULL);
        sp_plan_opt_add(opts, k, vals[i]);
    }
}

/* The qcow2-only elements are refused on other formats rather than dropped,
 * so that nothing the user asked for is silently ignored. */
gboolean
sp_plan_check_qcow2_only(const SpVolume *vol, SpFormat img, GError **error)
{
    const char *el = NULL;

    if (img == SP_FORMAT_QCOW2)
        return TRUE;
    if (vol->compat)
        el = "target/compat";
    else if (vol->lazy_refcounts)
        el = "target/features/lazy_refcounts";
    else if (vol->extended_l2)
        el = "target/features/extended_l2";
    else if (vol->cluster_size)
        el = "target/clusterSize";
    if (!el)
        return TRUE;
    g_set_error(
        error, SP_ERROR, SP_ERROR_INVALID,
        _("volume '%s': element '%s' is only supported for qcow2, not %s"),
        vol->name, el, sp_format_to_string(img));
    return FALSE;
}

/* preallocation, nocow, compat, cluster_size, lazy_refcounts, extended_l2 in
 * libvirt's order. @prealloc: "falloc", "metadata" or NULL. */
gboolean
sp_plan_opt_add_qcow2(GString *opts, const SpVolume *vol, const char *prealloc,
                      GError **error)
{
    const char *compat = vol->compat;

    if ((vol->lazy_refcounts || vol->extended_l2) && compat &&
        !g_str_equal(compat, "1.1")) {
        g_set_error(
            error, SP_ERROR, SP_ERROR_INVALID,
            _("volume '%s': element 'target/compat': %s does not support "
              "lazy_refcounts or extended_l2 (needs 1.1)"),
            vol->name, compat);
        return FALSE;
    }
    /* qemu's default compat is already 1.1, but say so when a feature
     * depends on it so a different qemu default cannot break the image. */
    if (!compat && (vol->lazy_refcounts || vol->extended_l2))
        compat = "1.1";
    if (prealloc)
        sp_plan_opt_add(opts, "preallocation", prealloc);
    if (vol->nocow)
        sp_plan_opt_add(opts, "nocow", "on");
    if (compat)
        sp_plan_opt_add(opts, "compat", compat);
    if (vol->cluster_size) {
        g_autofree char *cs = sp_plan_size_arg(vol->cluster_size);
        sp_plan_opt_add(opts, "cluster_size", cs);
    }
    if (vol->lazy_refcounts)
        sp_plan_opt_add(opts, "lazy_refcounts", "on");
    if (vol->extended_l2)
        sp_plan_opt_add(opts, "extended_l2", "on");
    return TRUE;
}
