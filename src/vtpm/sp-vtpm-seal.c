/* Sealed vTPM archives: a 512-byte header, then the plain archive in
 * secretstream chunks; every key, derived key and decrypted byte lives in
 * secret buffers (mlock'd, wiped). Format: docs/vtpm.md. */
#include "vtpm/sp-vtpm-seal.h"

#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "util/sp-error.h"
#include "util/sp-i18n.h"

#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define TAG_MSG crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

/* Header fields (big-endian), see docs/vtpm.md. */
enum {
    OFF_VERSION = 8,
    OFF_AEAD = 10,
    OFF_KDF = 11,
    OFF_CHUNK = 12,
    OFF_PLAIN_LEN = 16,
    OFF_ITERATIONS = 24,
    OFF_MEMORY_KIB = 28,
    OFF_LANES = 32,
    OFF_SALT = 36,
    OFF_KEY_ID = 52,
    OFF_SS_HEADER = 68,
    OFF_RESERVED = 92,
};
#define SALT_BYTES 16
#define KEY_ID_BYTES 16
#define AEAD_SECRETSTREAM 1
#define KDF_NONE 0
#define KDF_ARGON2ID 1
/* crypto_kdf context: the subkeys of a key are for this format only. */
static const char kdf_ctx[crypto_kdf_CONTEXTBYTES] = "spvtpm02";

G_STATIC_ASSERT(OFF_SS_HEADER + SS_HBYTES == OFF_RESERVED);
G_STATIC_ASSERT(SALT_BYTES == crypto_pwhash_argon2id_SALTBYTES);

typedef struct {
    guint8 kdf;
    guint32 chunk;
    guint64 plain_len;
    guint32 iterations;
    guint32 memory_kib;
    const guint8 *salt;
    const guint8 *key_id;
    const guint8 *ss_header;
} Header;

static gboolean
sodium_ready(GError **error)
{
    if (sodium_init() < 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("libsodium could not be initialised"));
        return FALSE;
    }
    return TRUE;
}

SpVtpmKey *
sp_vtpm_key_new(SpVtpmKeyKind kind, SpSecret *secret, const char *source,
                GError **error)
{
    g_autoptr(SpSecret) s = secret;
    SpVtpmKey *key;

    if (kind == SP_VTPM_KEY_RAW && sp_secret_len(s) != SP_VTPM_SEAL_KEY_BYTES) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("%s: a key is exactly %d bytes, not %zu"), source,
                    SP_VTPM_SEAL_KEY_BYTES, sp_secret_len(s));
        return NULL;
    }
    key = g_new0(SpVtpmKey, 1);
    key->kind = kind;
    key->secret = g_steal_pointer(&s);
    key->source = g_strdup(source);
    key->memory = G_GUINT64_CONSTANT(256) << 20;
    key->iterations = 3;
    key->max_memory = G_GUINT64_CONSTANT(1) << 30;
    key->max_iterations = 10;
    return key;
}

void
sp_vtpm_key_free(SpVtpmKey *key)
{
    if (!key)
        return;
    sp_secret_free(key->secret);
    g_free(key->source);
    g_free(key);
}

gboolean
sp_vtpm_is_sealed(const guint8 *data, gsize len)
{
    return len >= strlen(SP_VTPM_SEAL_MAGIC) &&
           memcmp(data, SP_VTPM_SEAL_MAGIC, strlen(SP_VTPM_SEAL_MAGIC)) == 0;
}

static guint64
chunks_for(guint64 plain_len, guint32 chunk)
{
    return plain_len == 0 ? 1 : (plain_len + chunk - 1) / chunk;
}

guint64
sp_vtpm_sealed_max(guint64 plain_max)
{
    return SP_VTPM_SEAL_HEADER + plain_max +
           chunks_for(plain_max, SP_VTPM_SEAL_CHUNK_MIN) * SS_ABYTES +
           SP_VTPM_SEAL_PAD_MAX;
}

/* The 32-byte master key: the raw key, or Argon2id of the passphrase. */
static SpSecret *
master_key(const SpVtpmKey *key, const Header *h, GError **error)
{
    g_autoptr(SpSecret) k = sp_secret_new_size(SP_VTPM_SEAL_KEY_BYTES);

    if (h->kdf == KDF_NONE) {
        memcpy(sp_secret_data_mut(k), sp_secret_data(key->secret),
               SP_VTPM_SEAL_KEY_BYTES);
        return g_steal_pointer(&k);
    }
    if (crypto_pwhash(sp_secret_data_mut(k), SP_VTPM_SEAL_KEY_BYTES,
                      (const char *)sp_secret_data(key->secret),
                      sp_secret_len(key->secret), h->salt, h->iterations,
                      (size_t)h->memory_kib * 1024,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                    _("%s: Argon2id with %" PRIu32 " KiB and %" PRIu32
                      " iterations failed (out of memory?)"),
                    key->source, h->memory_kib, h->iterations);
        return NULL;
    }
    return g_steal_pointer(&k);
}

/* The stream key (subkey 1) and the key id (subkey 2) of a master key. */
static SpSecret *
derive(const SpSecret *master, guint8 key_id[KEY_ID_BYTES])
{
    g_autoptr(SpSecret) sk = sp_secret_new_size(SP_VTPM_SEAL_KEY_BYTES);

    crypto_kdf_derive_from_key(sp_secret_data_mut(sk), SP_VTPM_SEAL_KEY_BYTES,
                               1, kdf_ctx, sp_secret_data(master));
    crypto_kdf_derive_from_key(key_id, KEY_ID_BYTES, 2, kdf_ctx,
                               sp_secret_data(master));
    return g_steal_pointer(&sk);
}

static char *
hex(const guint8 *b, gsize n)
{
    char *s = g_malloc(n * 2 + 1);

    return sodium_bin2hex(s, n * 2 + 1, b, n);
}

static void
put32(guint8 *p, guint32 v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = v & 0xff;
}

static guint32
get32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 |
           p[3];
}

/* Header fields of a new archive, short of the secretstream header. */
static void
header_fill(guint8 *h, const SpVtpmKey *key, gsize len, gsize chunk,
            Header *out)
{
    memset(h, 0, SP_VTPM_SEAL_HEADER);
    memcpy(h, SP_VTPM_SEAL_MAGIC, strlen(SP_VTPM_SEAL_MAGIC));
    h[OFF_VERSION + 1] = SP_VTPM_SEAL_VERSION;
    h[OFF_AEAD] = AEAD_SECRETSTREAM;
    put32(h + OFF_CHUNK, (guint32)chunk);
    put32(h + OFF_PLAIN_LEN, (guint32)((guint64)len >> 32));
    put32(h + OFF_PLAIN_LEN + 4, (guint32)len);
    *out = (Header){.kdf = KDF_NONE, .salt = h + OFF_SALT};
    if (key->kind == SP_VTPM_KEY_PASSPHRASE) {
        out->kdf = h[OFF_KDF] = KDF_ARGON2ID;
        out->iterations = (guint32)key->iterations;
        out->memory_kib = (guint32)(key->memory / 1024);
        put32(h + OFF_ITERATIONS, out->iterations);
        put32(h + OFF_MEMORY_KIB, out->memory_kib);
        put32(h + OFF_LANES, 1); /* libsodium's Argon2id runs one lane */
        randombytes_buf(h + OFF_SALT, SALT_BYTES);
    }
}

GBytes *
sp_vtpm_seal(const SpVtpmKey *key, const guint8 *plain, gsize len, gsize chunk,
             char **key_id, GError **error)
{
    g_autoptr(SpSecret) master = NULL, sk = NULL, st = NULL;
    g_autoptr(GByteArray) out = NULL;
    guint64 n = chunks_for(len, (guint32)chunk);
    guint8 *h;
    Header hdr;

    g_return_val_if_fail(chunk >= SP_VTPM_SEAL_CHUNK_MIN &&
                             chunk <= SP_VTPM_SEAL_CHUNK_MAX,
                         NULL);
    if (!sodium_ready(error))
        return NULL;
    out = g_byte_array_sized_new(SP_VTPM_SEAL_HEADER + len + n * SS_ABYTES);
    g_byte_array_set_size(out, SP_VTPM_SEAL_HEADER + len + n * SS_ABYTES);
    h = out->data;
    header_fill(h, key, len, chunk, &hdr);
    if (!(master = master_key(key, &hdr, error)))
        return NULL;
    sk = derive(master, h + OFF_KEY_ID);
    st = sp_secret_new_size(crypto_secretstream_xchacha20poly1305_statebytes());
    crypto_secretstream_xchacha20poly1305_init_push(
        (void *)sp_secret_data_mut(st), h + OFF_SS_HEADER, sp_secret_data(sk));
    /* The whole header is the first chunk's associated data: a change to
     * any field (the KDF, its parameters, the key id, the lengths, the
     * reserved zeros) fails authentication. */
    for (guint64 i = 0, off = 0; i < n; i++, off += chunk) {
        gsize m = i + 1 < n ? chunk : len - off;
        guint8 *c = out->data + SP_VTPM_SEAL_HEADER + off + i * SS_ABYTES;

        crypto_secretstream_xchacha20poly1305_push(
            (void *)sp_secret_data_mut(st), c, NULL, plain + off, m,
            i == 0 ? h : NULL, i == 0 ? SP_VTPM_SEAL_HEADER : 0,
            i + 1 < n ? TAG_MSG : TAG_FINAL);
    }
    if (key_id)
        *key_id = hex(h + OFF_KEY_ID, KEY_ID_BYTES);
    return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static gboolean refuse(GError **error, const char *what, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean
refuse(GError **error, const char *what, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, SP_ERROR, SP_ERROR_INVALID, _("archive '%s': %s"), what,
                why);
    return FALSE;
}

static gboolean
all_zero(const guint8 *p, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (p[i])
            return FALSE;
    return TRUE;
}

/* Every field, before any key is derived: the parameters bound the work
 * (Argon2id memory and time, the buffer for the plain archive). */
static gboolean
header_parse(const guint8 *h, gsize len, const SpVtpmKey *key,
             guint64 plain_max, const char *what, Header *out, GError **error)
{
    guint32 lanes;

    if (len < SP_VTPM_SEAL_HEADER)
        return refuse(error, what, _("truncated header (%zu of %d bytes)"), len,
                      SP_VTPM_SEAL_HEADER);
    if (!sp_vtpm_is_sealed(h, len))
        return refuse(error, what, _("not a sealed archive"));
    if (h[OFF_VERSION] != 0 || h[OFF_VERSION + 1] != SP_VTPM_SEAL_VERSION)
        return refuse(error, what, _("archive version %u is not known"),
                      (guint)h[OFF_VERSION] << 8 | h[OFF_VERSION + 1]);
    if (h[OFF_AEAD] != AEAD_SECRETSTREAM)
        return refuse(error, what, _("cipher %u is not known"), h[OFF_AEAD]);
    *out = (Header){.kdf = h[OFF_KDF],
                    .chunk = get32(h + OFF_CHUNK),
                    .plain_len = (guint64)get32(h + OFF_PLAIN_LEN) << 32 |
                                 get32(h + OFF_PLAIN_LEN + 4),
                    .iterations = get32(h + OFF_ITERATIONS),
                    .memory_kib = get32(h + OFF_MEMORY_KIB),
                    .salt = h + OFF_SALT,
                    .key_id = h + OFF_KEY_ID,
                    .ss_header = h + OFF_SS_HEADER};
    lanes = get32(h + OFF_LANES);
    if (out->chunk < SP_VTPM_SEAL_CHUNK_MIN ||
        out->chunk > SP_VTPM_SEAL_CHUNK_MAX)
        return refuse(error, what, _("chunk size %" PRIu32 " out of bounds"),
                      out->chunk);
    if (out->plain_len > plain_max)
        return refuse(error, what,
                      _("holds %" PRIu64 " bytes, above the limit of %" PRIu64),
                      out->plain_len, plain_max);
    if (!all_zero(h + OFF_RESERVED, SP_VTPM_SEAL_HEADER - OFF_RESERVED))
        return refuse(error, what, _("reserved header bytes are not zero"));
    if (out->kdf == KDF_NONE) {
        if (out->iterations || out->memory_kib || lanes ||
            !all_zero(out->salt, SALT_BYTES))
            return refuse(error, what, _("KDF parameters without a KDF"));
        if (key->kind != SP_VTPM_KEY_RAW)
            return refuse(error, what,
                          _("sealed with a key, not a "
                            "passphrase: give --key-file, "
                            "--key-fd or --secret"));
        return TRUE;
    }
    if (out->kdf != KDF_ARGON2ID)
        return refuse(error, what, _("KDF %u is not known"), out->kdf);
    if (key->kind != SP_VTPM_KEY_PASSPHRASE)
        return refuse(error, what,
                      _("sealed with a passphrase (Argon2id): "
                        "give --passphrase-file or "
                        "--passphrase-fd"));
    if (lanes != 1 || out->iterations < 1 || out->memory_kib < 8 ||
        out->iterations > key->max_iterations ||
        (guint64)out->memory_kib * 1024 > key->max_memory)
        return refuse(error, what,
                      _("Argon2id with %" PRIu32 " KiB, %" PRIu32
                        " iterations, %" PRIu32 " lanes is outside what the "
                        "policy allows (argon2_max_memory, "
                        "argon2_max_iterations; one lane)"),
                      out->memory_kib, out->iterations, lanes);
    return TRUE;
}

/* Lengths first: a cut archive is named so before any work is done. */
static gboolean
check_length(const Header *hdr, gsize len, const char *what, gsize *end,
             GError **error)
{
    guint64 want = SP_VTPM_SEAL_HEADER + hdr->plain_len +
                   chunks_for(hdr->plain_len, hdr->chunk) * SS_ABYTES;

    if (len < want)
        return refuse(error, what, _("truncated (%zu of %" PRIu64 " bytes)"),
                      len, want);
    *end = (gsize)want;
    return TRUE;
}

static gboolean
decrypt(const Header *hdr, const guint8 *data, const SpSecret *sk,
        SpSecret *plain, const char *what, GError **error)
{
    g_autoptr(SpSecret) st =
        sp_secret_new_size(crypto_secretstream_xchacha20poly1305_statebytes());
    guint64 n = chunks_for(hdr->plain_len, hdr->chunk);

    if (crypto_secretstream_xchacha20poly1305_init_pull(
            (void *)sp_secret_data_mut(st), hdr->ss_header,
            sp_secret_data(sk)) != 0)
        return refuse(error, what, _("bad stream header"));
    for (guint64 i = 0, off = 0; i < n; i++, off += hdr->chunk) {
        gsize m = i + 1 < n ? hdr->chunk : hdr->plain_len - off;
        const guint8 *c = data + SP_VTPM_SEAL_HEADER + off + i * SS_ABYTES;
        unsigned char tag = 0xff;

        if (crypto_secretstream_xchacha20poly1305_pull(
                (void *)sp_secret_data_mut(st), sp_secret_data_mut(plain) + off,
                NULL, &tag, c, m + SS_ABYTES, i == 0 ? data : NULL,
                i == 0 ? SP_VTPM_SEAL_HEADER : 0) != 0)
            return refuse(error, what,
                          _("chunk %" PRIu64 " of %" PRIu64 " fails "
                            "authentication (modified, reordered or "
                            "another key)"),
                          i + 1, n);
        if (tag != (i + 1 < n ? TAG_MSG : TAG_FINAL))
            return refuse(error, what,
                          _("chunk %" PRIu64 " of %" PRIu64 " has tag %u: "
                            "the stream was cut or spliced"),
                          i + 1, n, tag);
    }
    return TRUE;
}

SpSecret *
sp_vtpm_unseal(const SpVtpmKey *key, const guint8 *data, gsize len,
               guint64 plain_max, const char *what, GError **error)
{
    g_autoptr(SpSecret) master = NULL, sk = NULL, plain = NULL;
    guint8 key_id[KEY_ID_BYTES];
    Header hdr;
    gsize end = 0;

    if (!sodium_ready(error) ||
        !header_parse(data, len, key, plain_max, what, &hdr, error) ||
        !check_length(&hdr, len, what, &end, error))
        return NULL;
    if (!all_zero(data + end, len - end)) {
        refuse(error, what, _("%zu bytes after the end are not zero padding"),
               len - end);
        return NULL;
    }
    if (!(master = master_key(key, &hdr, error)))
        return NULL;
    sk = derive(master, key_id);
    if (sodium_memcmp(key_id, hdr.key_id, KEY_ID_BYTES) != 0) {
        g_autofree char *want = hex(hdr.key_id, KEY_ID_BYTES);
        g_autofree char *have = hex(key_id, KEY_ID_BYTES);

        refuse(error, what, _("sealed with key id %s; %s gives key id %s"),
               want, key->source, have);
        return NULL;
    }
    plain = sp_secret_new_size((gsize)hdr.plain_len);
    if (!decrypt(&hdr, data, sk, plain, what, error))
        return NULL;
    return g_steal_pointer(&plain);
}
