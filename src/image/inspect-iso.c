/* ISO 9660 and UDF: recognised by a volume descriptor identifier in the
 * volume recognition area (2 KiB sectors 16 and up). */
#include "image/inspect-private.h"

#define ISO_SECTOR 2048

G_STATIC_ASSERT(SP_INSP_VRS_OFFSET == 16 * ISO_SECTOR);

/* ctx->vrs holds the file from sector 16 on. */
gboolean
sp_insp_probe_iso(const SpInspCtx *ctx)
{
    for (gsize off = 1; off + 5 <= ctx->vrs_len; off += ISO_SECTOR) {
        const guint8 *id = ctx->vrs + off;

        if (memcmp(id, "CD001", 5) == 0 || memcmp(id, "NSR02", 5) == 0 ||
            memcmp(id, "NSR03", 5) == 0)
            return TRUE;
    }
    return FALSE;
}
