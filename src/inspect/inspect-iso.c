/* ISO 9660 and UDF: recognised by a volume descriptor identifier in the
 * volume recognition area (2 KiB sectors 16 and up). */
#include "inspect/inspect-private.h"

#define ISO_SECTOR 2048

G_STATIC_ASSERT(SP_INSP_VRS_OFFSET == 16 * ISO_SECTOR);

/* ctx->vrs holds the file from sector 16 on (with a container signature
 * at the start: sector 16 only, which starts every ISO 9660 or UDF
 * volume recognition sequence). */
gboolean
sp_insp_probe_iso(const SpInspCtx *ctx)
{
    for (gsize off = 1; off + 5 <= ctx->vrs_len; off += ISO_SECTOR) {
        const guint8 *id = ctx->vrs + off;

        if (memcmp(id, "CD001", 5) == 0 || memcmp(id, "NSR02", 5) == 0 ||
            memcmp(id, "NSR03", 5) == 0 || memcmp(id, "BEA01", 5) == 0)
            return TRUE;
    }
    return FALSE;
}

#define ISO_TYPE_PRIMARY 1
#define ISO_TYPE_TERMINATOR 255

/* ECMA-119: the primary volume descriptor gives the volume's size as its
 * "volume space size" (blocks, both-endian 32-bit at 80) times its
 * "logical block size" (both-endian 16-bit at 128); the little-endian
 * halves are read. Without one (UDF only) the file's size stands. */
gboolean
sp_insp_check_iso(SpInspCtx *ctx, GError **error)
{
    ctx->virtual_size = ctx->file_size;
    for (gsize off = 0; off + ISO_SECTOR <= ctx->vrs_len; off += ISO_SECTOR) {
        const guint8 *d = ctx->vrs + off;

        if (memcmp(d + 1, "CD001", 5) != 0 || d[0] == ISO_TYPE_TERMINATOR)
            break;
        if (d[0] == ISO_TYPE_PRIMARY) {
            guint64 blocks = sp_le32(d + 80), block_size = sp_le16(d + 128);

            if (blocks && block_size)
                ctx->virtual_size = blocks * block_size;
            break;
        }
    }
    return TRUE;
}
