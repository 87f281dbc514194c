/* vhdx: checksummed headers, region table and metadata table; a parent
 * locator (differencing disk) or a log waiting to be replayed is refused. */
#include "inspect/inspect-private.h"

#define VHDX_HEADER1 (64 * 1024)
#define VHDX_HEADER2 (128 * 1024)
#define VHDX_HEADER_SIZE 4096
#define VHDX_REGION1 (192 * 1024)
#define VHDX_TABLE_SIZE (64 * 1024)
#define VHDX_MAX_ENTRIES 2047
#define VHDX_MB (1024 * 1024)
#define VHDX_MAX_SIZE (64ull << 40)

/* GUIDs as stored on disk (first three fields little-endian). */
static const guint8 guid_bat[16] = {0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6,
                                    0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E,
                                    0x9B, 0xFD, 0x4A, 0x08};
static const guint8 guid_meta[16] = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47,
                                     0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F,
                                     0x05, 0x0F, 0x88, 0x6E};
static const guint8 guid_file_params[16] = {0x37, 0x67, 0xA1, 0xCA, 0x36, 0xFA,
                                            0x43, 0x4D, 0xB3, 0xB6, 0x33, 0xF0,
                                            0xAA, 0x44, 0xE7, 0x6B};
static const guint8 guid_vdisk_size[16] = {0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD,
                                           0x76, 0x48, 0xB2, 0x11, 0x5D, 0xBE,
                                           0xD8, 0x3B, 0xF4, 0xB8};
static const guint8 guid_parent[16] = {0x2D, 0x5F, 0xD3, 0xA8, 0x0B, 0xB3,
                                       0x4D, 0x45, 0xAB, 0xF7, 0xD3, 0xD8,
                                       0x48, 0x34, 0xAB, 0x0C};
/* Required items that carry nothing we check. */
static const guint8 guid_known[][16] = {
    {0x1D, 0xBF, 0x41, 0x81, 0x6F, 0xA9, 0x09, 0x47, /* logical sector size */
     0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F},
    {0xC7, 0x48, 0xA3, 0xCD, 0x5D, 0x44, 0x71, 0x44, /* physical sector size */
     0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56},
    {0xAB, 0x12, 0xCA, 0xBE, 0xE6, 0xB2, 0x23, 0x45, /* page 83 data */
     0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46},
};

static gboolean
is_known_item(const guint8 *guid)
{
    for (gsize i = 0; i < G_N_ELEMENTS(guid_known); i++) {
        if (memcmp(guid, guid_known[i], 16) == 0)
            return TRUE;
    }
    return FALSE;
}

gboolean
sp_insp_probe_vhdx(const SpInspCtx *ctx)
{
    return sp_insp_head_has(ctx, 0, "vhdxfile", 8);
}

/* CRC-32C, slicing by 8: the region and metadata tables are 64 KiB. */
static guint32 crc_table[8][256];

static gpointer
crc_init(gpointer data)
{
    for (guint32 i = 0; i < 256; i++) {
        guint32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (guint32 i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                              crc_table[0][crc_table[t - 1][i] & 0xFF];
    }
    return NULL;
}

static guint32
crc_update(guint32 c, const guint8 *p, gsize len)
{
    while (len >= 8) {
        guint32 lo = c ^ sp_le32(p), hi = sp_le32(p + 4);
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
            crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
            crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c;
}

/* CRC-32C of @buf with its 4-byte checksum field at offset 4 taken as 0
 * (both vhdx headers and tables put it there). */
static guint32
crc32c(const guint8 *buf, gsize len)
{
    static GOnce once = G_ONCE_INIT;
    static const guint8 zero[4];
    guint32 c = 0xFFFFFFFFu;

    g_once(&once, crc_init, NULL);
    c = crc_update(c, buf, 4);
    c = crc_update(c, zero, 4);
    c = crc_update(c, buf + 8, len - 8);
    return c ^ 0xFFFFFFFFu;
}

/* Read a whole table; FALSE with *ok FALSE when it is not all there. */
static gboolean
read_exact(SpInspCtx *ctx, guint8 *buf, gsize len, guint64 off, gboolean *ok,
           GError **error)
{
    gssize n = sp_insp_read(ctx, buf, len, off, error);

    if (n < 0)
        return FALSE;
    *ok = (gsize)n == len;
    return TRUE;
}

/* The current header is the valid one with the higher sequence number;
 * a non-zero log GUID means qemu would replay a log into the image. */
static gboolean
check_headers(SpInspCtx *ctx, GError **error)
{
    guint8 h[2][VHDX_HEADER_SIZE];
    const guint8 *cur = NULL;
    guint64 best = 0;
    gboolean ok;

    for (int i = 0; i < 2; i++) {
        if (!read_exact(ctx, h[i], VHDX_HEADER_SIZE,
                        i ? VHDX_HEADER2 : VHDX_HEADER1, &ok, error))
            return FALSE;
        if (!ok || memcmp(h[i], "head", 4) != 0 ||
            crc32c(h[i], VHDX_HEADER_SIZE) != sp_le32(h[i] + 4))
            continue;
        if (!cur || sp_le64(h[i] + 8) > best) {
            cur = h[i];
            best = sp_le64(h[i] + 8);
        }
    }
    if (!cur) {
        sp_insp_violation(ctx, "vhdx-header");
        return TRUE;
    }
    if (!sp_insp_is_zero(cur + 48, 16))
        sp_insp_violation(ctx, "vhdx-log-replay");
    return TRUE;
}

static gboolean
check_metadata(SpInspCtx *ctx, guint64 moff, guint32 mlen, GError **error)
{
    g_autofree guint8 *t = g_malloc(VHDX_TABLE_SIZE);
    gboolean ok, have_size = FALSE, have_params = FALSE;
    guint16 count;

    if (!read_exact(ctx, t, VHDX_TABLE_SIZE, moff, &ok, error))
        return FALSE;
    if (!ok || memcmp(t, "metadata", 8) != 0 ||
        (count = sp_le16(t + 10)) > VHDX_MAX_ENTRIES) {
        sp_insp_violation(ctx, "vhdx-metadata-table");
        return TRUE;
    }
    for (guint i = 0; i < count; i++) {
        const guint8 *e = t + 32 + i * 32;
        guint32 off = sp_le32(e + 16), len = sp_le32(e + 20);
        guint32 flags = sp_le32(e + 24);
        guint8 item[8];

        if (len == 0)
            continue;
        if (off < VHDX_TABLE_SIZE || off > mlen || len > mlen - off) {
            sp_insp_violation(ctx, "vhdx-metadata-table");
            return TRUE;
        }
        if (memcmp(e, guid_parent, 16) == 0) {
            sp_insp_violation(ctx, "vhdx-parent");
        } else if (memcmp(e, guid_vdisk_size, 16) == 0 ||
                   memcmp(e, guid_file_params, 16) == 0) {
            gboolean size_item = memcmp(e, guid_vdisk_size, 16) == 0;
            if (len < 8) {
                sp_insp_violation(ctx, "vhdx-metadata-table");
                return TRUE;
            }
            if (!read_exact(ctx, item, sizeof(item), moff + off, &ok, error))
                return FALSE;
            if (!ok) {
                sp_insp_violation(ctx, "vhdx-metadata-table");
                return TRUE;
            }
            if (size_item) {
                have_size = TRUE;
                ctx->virtual_size = sp_le64(item);
                if (ctx->virtual_size > VHDX_MAX_SIZE)
                    sp_insp_violation(ctx, "vhdx-metadata-table");
            } else {
                guint32 block = sp_le32(item);
                have_params = TRUE;
                if (block < VHDX_MB || block > 256 * VHDX_MB ||
                    (block & (block - 1)))
                    sp_insp_violation(ctx, "vhdx-metadata-table");
                if (sp_le32(item + 4) & 2)
                    sp_insp_violation(ctx, "vhdx-parent");
            }
        } else if ((flags & 4) && !is_known_item(e)) {
            /* a required item we do not understand */
            sp_insp_violation(ctx, "vhdx-metadata-table");
        }
    }
    if (!have_size || !have_params)
        sp_insp_violation(ctx, "vhdx-metadata-table");
    return TRUE;
}

gboolean
sp_insp_check_vhdx(SpInspCtx *ctx, GError **error)
{
    g_autofree guint8 *t = g_malloc(VHDX_TABLE_SIZE);
    guint64 moff = 0;
    guint32 count, mlen = 0;
    gboolean ok, have_bat = FALSE;

    if (!check_headers(ctx, error))
        return FALSE;
    if (!read_exact(ctx, t, VHDX_TABLE_SIZE, VHDX_REGION1, &ok, error))
        return FALSE;
    if (!ok || memcmp(t, "regi", 4) != 0 ||
        crc32c(t, VHDX_TABLE_SIZE) != sp_le32(t + 4) ||
        (count = sp_le32(t + 8)) > VHDX_MAX_ENTRIES) {
        sp_insp_violation(ctx, "vhdx-region-table");
        return TRUE;
    }
    for (guint i = 0; i < count; i++) {
        const guint8 *e = t + 16 + i * 32;
        guint64 off = sp_le64(e + 16);
        guint32 len = sp_le32(e + 24);
        gboolean is_bat = memcmp(e, guid_bat, 16) == 0;
        gboolean is_meta = memcmp(e, guid_meta, 16) == 0;

        if (off % VHDX_MB || len % VHDX_MB || len == 0 || off < VHDX_MB ||
            off > ctx->file_size || len > ctx->file_size - off ||
            (is_bat && have_bat) || (is_meta && moff) ||
            (!is_bat && !is_meta && (sp_le32(e + 28) & 1))) {
            sp_insp_violation(ctx, "vhdx-region-table");
            return TRUE;
        }
        if (is_bat)
            have_bat = TRUE;
        if (is_meta) {
            moff = off;
            mlen = len;
        }
    }
    if (!have_bat || !moff) {
        sp_insp_violation(ctx, "vhdx-region-table");
        return TRUE;
    }
    return check_metadata(ctx, moff, mlen, error);
}
