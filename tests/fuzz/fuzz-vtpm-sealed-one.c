/* Sealed vTPM archives under a fuzzer. Byte 0 of an input picks the mode:
 *   0  the rest is an archive opened with the target's 32-byte key;
 *   1  the same with the target's passphrase (Argon2id capped at 8 KiB
 *      and one pass, so a header asking for more is refused cheaply);
 *   2  the rest is a plain archive: it is sealed (chunks of 4 KiB plus
 *      the next byte's KiB), must open to exactly the same bytes, and
 *      the same archive changed at a place the input picks (a flipped
 *      bit, a cut, a byte appended) must be refused.
 * Whatever opens is restored into a scratch root and deleted again. An
 * invariant that breaks aborts (a finding): a refusal outside SP_ERROR
 * INVALID (or FAILED for Argon2id memory) or not one line, a changed
 * archive that opens, a round trip that differs, anything left in the
 * root. As root (restore sets owners). */
#include "fuzz-vtpm-sealed-one.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-lock.h"
#include "vtpm/sp-vtpm.h"

#define PLAIN_MAX (1024 * 1024)

static const char key_bytes[] = "safepool-fuzz-key-32-bytes-long!";
static const char passphrase[] = "safepool fuzz passphrase";

static struct {
    char *dir;
    SpVtpmRoot *root;
    SpVtpmKey *key;
    SpVtpmKey *pass;
} fz;

G_NORETURN static void fuzz_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

G_NORETURN static void
fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "fuzz-vtpm-sealed: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void
scratch_remove(void)
{
    g_autofree char *root = NULL, *lock = NULL;

    if (!fz.dir)
        return;
    g_clear_pointer(&fz.root, sp_vtpm_root_free);
    root = g_build_filename(fz.dir, "root", NULL);
    lock = g_build_filename(root, SP_LOCK_FILE, NULL);
    unlink(lock);
    rmdir(root);
    rmdir(fz.dir);
}

static void
setup(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *root = NULL;

    if (fz.root)
        return;
    /* a GLib critical or warning (a g_return_if_fail an input reached) is
     * a finding, as the replay's G_DEBUG=fatal-criticals makes it */
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING |
                           G_LOG_FATAL_MASK);
    /* tmpfs when there is one: restore's fsyncs then cost nothing */
    fz.dir = g_strdup("/dev/shm/sp-fuzz-sealed-XXXXXX");
    if (!g_mkdtemp(fz.dir)) {
        g_free(fz.dir);
        fz.dir = g_dir_make_tmp("sp-fuzz-sealed-XXXXXX", &error);
        if (!fz.dir)
            fuzz_fail("scratch dir: %s", error->message);
    }
    atexit(scratch_remove);
    root = g_build_filename(fz.dir, "root", NULL);
    fz.root = sp_vtpm_root_open(root, TRUE, FALSE, &error);
    if (!fz.root)
        fuzz_fail("scratch root: %s", error->message);
    fz.key = sp_vtpm_key_new(SP_VTPM_KEY_RAW,
                             sp_secret_new((const guint8 *)key_bytes, 32),
                             "fuzz key", &error);
    fz.pass = sp_vtpm_key_new(
        SP_VTPM_KEY_PASSPHRASE,
        sp_secret_new((const guint8 *)passphrase, strlen(passphrase)),
        "fuzz passphrase", &error);
    if (!fz.key || !fz.pass)
        fuzz_fail("keys: %s", error->message);
    fz.pass->memory = fz.pass->max_memory = 8192;
    fz.pass->iterations = fz.pass->max_iterations = 1;
}

static void
check_refusal(const char *what, const GError *error, gboolean may_fail)
{
    if (!error || error->domain != SP_ERROR ||
        (error->code != SP_ERROR_INVALID &&
         !(may_fail && error->code == SP_ERROR_FAILED)))
        fuzz_fail("%s: refused without an SP_ERROR INVALID error: %s", what,
                  error ? error->message : "(none)");
    for (const char *p = error->message; *p; p++)
        if ((guchar)*p < 0x20 || *p == 0x7f)
            fuzz_fail("%s: message is not one printable line: %s", what,
                      error->message);
}

/* Restore what opened; a refusal is fine, a trace in the root is not. */
static void
restore(const SpSecret *tar)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_auto(SpVtpmSpec) spec = {NULL};
    gboolean ok;

    spec.uid = getuid();
    spec.gid = getgid();
    ok = sp_vtpm_restore(fz.root, &spec, tar, "fuzz", PLAIN_MAX, &error);
    if (ok && !sp_vtpm_delete(fz.root, spec.uuid, &error))
        fuzz_fail("delete: %s", error->message);
    if (!ok &&
        (error->domain != SP_ERROR || (error->code != SP_ERROR_INVALID &&
                                       error->code != SP_ERROR_NOT_FOUND)))
        fuzz_fail("restore: unexpected error: %s", error->message);
    names = sp_fs_list(fz.root->fd, &error);
    if (!names)
        fuzz_fail("list root: %s", error->message);
    for (guint i = 0; i < names->len; i++)
        if (!g_str_equal(names->pdata[i], SP_LOCK_FILE))
            fuzz_fail("'%s' left in the root", (char *)names->pdata[i]);
    g_ptr_array_set_size(fz.root->notices, 0);
}

static void
open_sealed(const SpVtpmKey *key, const guint8 *d, gsize n)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpSecret) tar =
        sp_vtpm_archive_open(d, n, "fuzz", key, FALSE, PLAIN_MAX, &error);

    if (!tar) {
        check_refusal("open", error, key->kind == SP_VTPM_KEY_PASSPHRASE);
        return;
    }
    restore(tar);
}

/* Seal @p, open it back, then change it once and see it refused. */
static void
round_trip(const guint8 *p, gsize n)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) sealed = NULL;
    g_autoptr(SpSecret) back = NULL;
    g_autofree guint8 *bad = NULL;
    gsize chunk = SP_VTPM_SEAL_CHUNK_MIN, len = 0, pick = 0, badlen;
    const guint8 *s;

    if (n > 0) {
        chunk += (gsize)p[0] * 1024;
        p++, n--;
    }
    for (gsize i = 0; i < n; i++)
        pick = pick * 131 + p[i];
    sealed = sp_vtpm_seal(fz.key, p, n, chunk, NULL, &error);
    if (!sealed)
        fuzz_fail("seal: %s", error->message);
    s = g_bytes_get_data(sealed, &len);
    back = sp_vtpm_unseal(fz.key, s, len, PLAIN_MAX + 4096, "rt", &error);
    if (!back)
        fuzz_fail("a sealed archive does not open: %s", error->message);
    if (sp_secret_len(back) != n || memcmp(sp_secret_data(back), p, n) != 0)
        fuzz_fail("round trip changed the archive");
    restore(back);
    bad = g_malloc(len + 1);
    memcpy(bad, s, len);
    badlen = len;
    switch (pick % 3) {
    case 0:
        bad[(pick / 3) % len] ^= (guint8)(1u << (pick % 8));
        break;
    case 1:
        badlen = (pick / 3) % len;
        break;
    default:
        bad[len] = (guint8)(1 + pick % 255);
        badlen = len + 1;
    }
    g_clear_pointer(&back, sp_secret_free);
    g_clear_error(&error);
    back = sp_vtpm_unseal(fz.key, bad, badlen, PLAIN_MAX + 4096, "rt", &error);
    if (back)
        fuzz_fail("a changed archive opened (mode %zu at %zu)", pick % 3,
                  (pick / 3) % len);
    check_refusal("changed", error, FALSE);
}

int
sp_fuzz_vtpm_sealed_one(const uint8_t *data, size_t size)
{
    setup();
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        open_sealed(fz.key, data + 1, size - 1);
        break;
    case 1:
        open_sealed(fz.pass, data + 1, size - 1);
        break;
    default:
        if (size - 1 <= PLAIN_MAX)
            round_trip(data + 1, size - 1);
    }
    return 0;
}
