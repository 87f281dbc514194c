/* Runs one input as the policy key file: a refusal names the file on one
 * line; an accepted policy holds only what its loaders promise. */
#include "fuzz-policy-one.h"

#include <string.h>
#include <sys/stat.h>

#include "conf/sp-policy.h"
#include "fuzz-check.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"

/* What sp_fs_normalize_abs gives is its own fixed point. */
static void
check_abs(const char *key, const char *path)
{
    g_autofree char *norm = path ? sp_fs_normalize_abs(path, NULL) : NULL;

    if (path && g_strcmp0(norm, path) != 0)
        sp_fuzz_fail("policy", "%s '%s' is not a clean absolute path", key,
                     path);
}

static void
check_token(const char *key, const char *s)
{
    if (s && (!*s || strpbrk(s, " ,")))
        sp_fuzz_fail("policy", "%s '%s' is empty or has ' ' or ','", key, s);
    if (s)
        sp_fuzz_check_line(key, s);
}

int
sp_fuzz_policy_one(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpPolicy) p = NULL;

    sp_fuzz_setup();
    p = sp_policy_load_data((const char *)data, size, "fuzz.conf", &error);
    if (!p) {
        sp_fuzz_check_refusal("policy", error, SP_FUZZ_CODE(SP_ERROR_INVALID));
        if (!g_str_has_prefix(error->message, "policy file 'fuzz.conf': "))
            sp_fuzz_fail("policy", "'%s' does not name the file",
                         error->message);
        return 0;
    }
    if (p->default_mode & (S_ISUID | S_ISGID | S_ISVTX | S_IWOTH | ~07777u))
        sp_fuzz_fail("policy", "default_mode %o", p->default_mode);
    if (p->luks_versions & ~((1u << 1) | (1u << 2)))
        sp_fuzz_fail("policy", "luks_versions 0x%x", p->luks_versions);
    if (p->timeout_sec == 0 || p->timeout_sec > G_MAXUINT32 / 1000 ||
        p->cpu_limit_sec == 0 || p->luks_iter_time_ms == 0 ||
        p->luks_iter_time_ms > 3600 * 1000)
        sp_fuzz_fail("policy",
                     "timeout %u, cpu_limit %" G_GUINT64_FORMAT
                     ", iter_time %u",
                     p->timeout_sec, p->cpu_limit_sec, p->luks_iter_time_ms);
    for (guint i = 0; p->backing_roots[i]; i++) {
        check_abs("backing_roots", p->backing_roots[i]);
        if (g_str_equal(p->backing_roots[i], "/"))
            sp_fuzz_fail("policy", "backing root '/'");
    }
    check_abs("qemu_img", p->qemu_img);
    check_abs("vtpm.root", p->vtpm_root);
    check_abs("qemu_conf", p->qemu_conf);
    check_token("cipher_alg", p->luks_cipher_alg);
    check_token("cipher_mode", p->luks_cipher_mode);
    check_token("hash", p->luks_hash);
    check_token("ivgen_alg", p->luks_ivgen_alg);
    check_token("ivgen_hash", p->luks_ivgen_hash);
    check_token("swtpm_user", p->swtpm_user);
    check_token("swtpm_group", p->swtpm_group);
    return 0;
}
