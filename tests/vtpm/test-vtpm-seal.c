/* Sealed vTPM archives (sp-vtpm-seal): round trips, then every way to
 * break one: each truncation, each flipped byte, reordered, replayed and
 * spliced chunks, wrong keys, key id and KDF mismatches, padding. */
#include <sodium.h>
#include <string.h>

#include "util/sp-error.h"
#include "vtpm/sp-vtpm-seal.h"

#define CHUNK SP_VTPM_SEAL_CHUNK_MIN
#define ABYTES 17 /* secretstream: tag byte + Poly1305 */
#define LIMIT (64 * 1024 * 1024)
#define OFF_PLAIN_LEN_LOW 23 /* low byte of the big-endian plain length */

static SpVtpmKey *
raw_key(guint8 fill)
{
    guint8 k[32];

    memset(k, fill, sizeof k);
    k[0] ^= 0x5a;
    return sp_vtpm_key_new(SP_VTPM_KEY_RAW, sp_secret_new(k, sizeof k),
                           "test key", NULL);
}

static SpVtpmKey *
pass_key(const char *pass)
{
    SpVtpmKey *k = sp_vtpm_key_new(
        SP_VTPM_KEY_PASSPHRASE,
        sp_secret_new((const guint8 *)pass, strlen(pass)), "test pass", NULL);

    k->memory = 64 * 1024; /* fast: the test is about the format */
    k->iterations = 1;
    return k;
}

static guint8 *
plain_of(gsize len)
{
    guint8 *p = g_malloc(len + 1);

    for (gsize i = 0; i < len; i++)
        p[i] = (guint8)(i * 31 + (i >> 8));
    return p;
}

static GBytes *
seal(const SpVtpmKey *k, const guint8 *p, gsize len)
{
    g_autoptr(GError) error = NULL;
    GBytes *b = sp_vtpm_seal(k, p, len, CHUNK, NULL, &error);

    g_assert_no_error(error);
    return b;
}

/* unseal must refuse, with @needle (if given) in the one-line message. */
static void
refused(const SpVtpmKey *k, const guint8 *d, gsize len, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpSecret) s = sp_vtpm_unseal(k, d, len, LIMIT, "a", &error);

    g_assert_null(s);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_true(g_str_has_prefix(error->message, "archive 'a': "));
    g_assert_null(strchr(error->message, '\n'));
    if (needle && !strstr(error->message, needle))
        g_error("'%s' not in '%s'", needle, error->message);
}

static void
accepted(const SpVtpmKey *k, const guint8 *d, gsize len, const guint8 *p,
         gsize plen)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpSecret) s = sp_vtpm_unseal(k, d, len, LIMIT, "a", &error);

    g_assert_no_error(error);
    g_assert_cmpmem(sp_secret_data(s), sp_secret_len(s), p, plen);
}

static void
test_roundtrip(void)
{
    static const gsize lens[] = {0,         1,         CHUNK - 1, CHUNK,
                                 CHUNK + 1, 3 * CHUNK, 50000};
    g_autoptr(SpVtpmKey) k = raw_key(1);

    for (gsize i = 0; i < G_N_ELEMENTS(lens); i++) {
        g_autofree guint8 *p = plain_of(lens[i]);
        g_autoptr(GBytes) b = seal(k, p, lens[i]);
        gsize n = 0;
        const guint8 *d = g_bytes_get_data(b, &n);
        gsize chunks = lens[i] ? (lens[i] + CHUNK - 1) / CHUNK : 1;

        g_assert_cmpuint(n, ==,
                         SP_VTPM_SEAL_HEADER + lens[i] + chunks * ABYTES);
        g_assert_true(sp_vtpm_is_sealed(d, n));
        /* the plain bytes are nowhere in the sealed ones */
        if (lens[i] >= 64)
            g_assert_null(memmem(d, n, p + lens[i] / 2, 32));
        accepted(k, d, n, p, lens[i]);
    }
}

static void
test_passphrase(void)
{
    g_autoptr(SpVtpmKey) k = pass_key("correct horse");
    g_autoptr(SpVtpmKey) wrong = pass_key("correct horsf");
    g_autoptr(SpVtpmKey) raw = raw_key(1);
    g_autofree guint8 *p = plain_of(9000);
    g_autoptr(GBytes) b = seal(k, p, 9000);
    g_autoptr(GBytes) b2 = seal(k, p, 9000);
    gsize n = 0;
    const guint8 *d = g_bytes_get_data(b, &n);
    g_autofree guint8 *cheap = g_memdup2(d, n);

    accepted(k, d, n, p, 9000);
    /* a new salt (and stream header) each time */
    g_assert_false(g_bytes_equal(b, b2));
    refused(wrong, d, n, "sealed with key id");
    refused(raw, d, n, "sealed with a passphrase");
    /* parameters above what the opener allows are refused before any
     * Argon2id work; the header names them */
    k->max_memory = 32 * 1024;
    refused(k, d, n, "64 KiB, 1 iterations, 1 lanes is outside");
    k->max_memory = 1 << 20;
    k->max_iterations = 0;
    refused(k, d, n, "outside what the policy allows");
    /* a header lowered to cheaper parameters no longer authenticates */
    k->max_iterations = 10;
    cheap[31] = 32; /* memory_kib 64 -> 32 */
    refused(k, cheap, n, NULL);
}

static void
test_every_truncation(void)
{
    g_autoptr(SpVtpmKey) k = raw_key(2);
    g_autofree guint8 *p = plain_of(3 * CHUNK + 100);
    g_autoptr(GBytes) b = seal(k, p, 3 * CHUNK + 100);
    gsize n = 0;
    const guint8 *d = g_bytes_get_data(b, &n);

    for (gsize cut = 0; cut < n; cut++)
        refused(k, d, cut,
                cut < SP_VTPM_SEAL_HEADER
                    ? (cut < 8 ? NULL : "truncated header")
                    : "truncated");
}

static void
test_every_flipped_byte(void)
{
    g_autoptr(SpVtpmKey) k = raw_key(3);
    g_autofree guint8 *p = plain_of(2 * CHUNK + 10);
    g_autoptr(GBytes) b = seal(k, p, 2 * CHUNK + 10);
    gsize n = 0;
    g_autofree guint8 *d = g_bytes_unref_to_data(g_bytes_ref(b), &n);

    for (gsize i = 0; i < n; i++) {
        d[i] ^= 0x01;
        refused(k, d, n, NULL);
        d[i] ^= 0x01;
    }
    accepted(k, d, n, p, 2 * CHUNK + 10);
}

/* Chunk @i (0-based) of an archive whose plain length is a multiple of
 * CHUNK: every chunk has the same size. */
static guint8 *
chunk_at(guint8 *d, gsize i)
{
    return d + SP_VTPM_SEAL_HEADER + i * (CHUNK + ABYTES);
}

static void
test_reorder_replay_splice(void)
{
    g_autoptr(SpVtpmKey) k = raw_key(4);
    g_autofree guint8 *p = plain_of(4 * CHUNK);
    g_autoptr(GBytes) b = seal(k, p, 4 * CHUNK);
    g_autoptr(GBytes) other = seal(k, p, 4 * CHUNK);
    gsize n = 0;
    const guint8 *orig = g_bytes_get_data(b, &n);
    g_autofree guint8 *d = g_memdup2(orig, n);
    g_autofree guint8 *tmp = g_malloc(CHUNK + ABYTES);

    /* swap chunks 2 and 3 */
    memcpy(tmp, chunk_at(d, 1), CHUNK + ABYTES);
    memcpy(chunk_at(d, 1), chunk_at(d, 2), CHUNK + ABYTES);
    memcpy(chunk_at(d, 2), tmp, CHUNK + ABYTES);
    refused(k, d, n, "chunk 2 of 4 fails authentication");
    /* chunk 2 replayed in place of chunk 3 */
    memcpy(d, orig, n);
    memcpy(chunk_at(d, 2), chunk_at(d, 1), CHUNK + ABYTES);
    refused(k, d, n, "chunk 3 of 4 fails authentication");
    /* chunk 3 from another archive sealed with the same key */
    memcpy(d, orig, n);
    memcpy(chunk_at(d, 2), chunk_at((guint8 *)g_bytes_get_data(other, NULL), 2),
           CHUNK + ABYTES);
    refused(k, d, n, "chunk 3 of 4 fails authentication");
    /* the final chunk dropped and the header's length lowered to match:
     * the header is authenticated, and chunk 3 is no final chunk */
    memcpy(d, orig, n);
    d[OFF_PLAIN_LEN_LOW] = 0;
    d[OFF_PLAIN_LEN_LOW - 1] = (3 * CHUNK) >> 8;
    refused(k, d, n - CHUNK - ABYTES, NULL);
    /* another archive's header on this archive's chunks */
    memcpy(d, orig, n);
    memcpy(d, g_bytes_get_data(other, NULL), SP_VTPM_SEAL_HEADER);
    refused(k, d, n, "chunk 1 of 4 fails authentication");
}

static void
test_keys_and_ids(void)
{
    g_autoptr(SpVtpmKey) k = raw_key(5);
    g_autoptr(SpVtpmKey) wrong = raw_key(6);
    g_autofree guint8 *p = plain_of(5000);
    g_autoptr(GBytes) b = seal(k, p, 5000);
    g_autoptr(GBytes) bw = seal(wrong, p, 5000);
    gsize n = 0;
    g_autofree guint8 *d = g_bytes_unref_to_data(g_bytes_ref(b), &n);
    g_autoptr(GError) error = NULL;
    g_autofree char *id = NULL;

    refused(wrong, d, n, "sealed with key id");
    refused(wrong, d, n, "test key gives key id");
    /* the wrong key's id written into the header: the id check passes,
     * the header no longer authenticates */
    memcpy(d + 52, (const guint8 *)g_bytes_get_data(bw, NULL) + 52, 16);
    refused(wrong, d, n, "chunk 1 of 2 fails authentication");
    refused(k, d, n, "sealed with key id");
    /* a raw key must be 32 bytes */
    g_assert_null(sp_vtpm_key_new(SP_VTPM_KEY_RAW,
                                  sp_secret_new((const guint8 *)"short", 5),
                                  "key file 'k'", &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "key file 'k': a key is exactly 32 bytes, not 5");
    g_clear_pointer(&b, g_bytes_unref);
    b = sp_vtpm_seal(k, p, 10, CHUNK, &id, NULL);
    g_assert_cmpuint(strlen(id), ==, 32);
}

static void
test_padding_and_limits(void)
{
    g_autoptr(SpVtpmKey) k = raw_key(7);
    g_autofree guint8 *p = plain_of(6000);
    g_autoptr(GBytes) b = seal(k, p, 6000);
    gsize n = 0;
    const guint8 *orig = g_bytes_get_data(b, &n);
    g_autofree guint8 *d = g_malloc0(n + 4096);
    g_autoptr(GError) error = NULL;
    SpSecret *s;

    memcpy(d, orig, n);
    /* zeros after the end: a volume rounded up by its pool */
    accepted(k, d, n + 4096, p, 6000);
    d[n + 4000] = 1;
    refused(k, d, n + 4096, "4096 bytes after the end are not zero padding");
    /* more plain bytes than the caller allows */
    s = sp_vtpm_unseal(k, orig, n, 5999, "a", &error);
    g_assert_null(s);
    g_assert_error(error, SP_ERROR, SP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "above the limit of 5999"));
    /* not a sealed archive at all, and an unknown version */
    refused(k, (const guint8 *)"MANIFEST.json", 13, "truncated header");
    memcpy(d, orig, n);
    d[9] = 3;
    refused(k, d, n, "archive version 3 is not known");
    memcpy(d, orig, n);
    d[200] = 1;
    refused(k, d, n, "reserved header bytes are not zero");
    memcpy(d, orig, n);
    d[11] = 1; /* a KDF named on a key archive, with no parameters */
    refused(k, d, n, "sealed with a passphrase");
    memcpy(d, orig, n);
    d[14] = 0; /* chunk size 0 */
    d[15] = 0;
    refused(k, d, n, "chunk size 0 out of bounds");
}

/* A writer cut short never pushed its final tag: the same key, header and
 * stream header, every chunk tagged as a message, is refused by its tag
 * (authentication alone passes). Built with libsodium as the format says:
 * stream key = crypto_kdf subkey 1 of the key, context "spvtpm02". */
static void
test_no_final_tag(void)
{
    g_autoptr(SpVtpmKey) k = raw_key(8);
    g_autofree guint8 *p = plain_of(2 * CHUNK);
    g_autoptr(GBytes) b = seal(k, p, 2 * CHUNK);
    gsize n = 0;
    g_autofree guint8 *d = g_bytes_unref_to_data(g_bytes_ref(b), &n);
    crypto_secretstream_xchacha20poly1305_state st;
    guint8 sk[32];

    crypto_kdf_derive_from_key(sk, sizeof sk, 1, "spvtpm02",
                               sp_secret_data(k->secret));
    /* a new stream header in place: chunk 1 authenticates the header */
    crypto_secretstream_xchacha20poly1305_init_push(&st, d + 68, sk);
    for (gsize i = 0; i < 2; i++)
        crypto_secretstream_xchacha20poly1305_push(
            &st, chunk_at(d, i), NULL, p + i * CHUNK, CHUNK, i == 0 ? d : NULL,
            i == 0 ? SP_VTPM_SEAL_HEADER : 0,
            crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    refused(k, d, n, "chunk 2 of 2 has tag 0: the stream was cut");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vtpm/seal/roundtrip", test_roundtrip);
    g_test_add_func("/vtpm/seal/passphrase", test_passphrase);
    g_test_add_func("/vtpm/seal/every-truncation", test_every_truncation);
    g_test_add_func("/vtpm/seal/every-flipped-byte", test_every_flipped_byte);
    g_test_add_func("/vtpm/seal/reorder-replay-splice",
                    test_reorder_replay_splice);
    g_test_add_func("/vtpm/seal/keys-and-ids", test_keys_and_ids);
    g_test_add_func("/vtpm/seal/no-final-tag", test_no_final_tag);
    g_test_add_func("/vtpm/seal/padding-and-limits", test_padding_and_limits);
    return g_test_run();
}
