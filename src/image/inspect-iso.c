/* ISO 9660 and UDF: recognised by a volume descriptor identifier in the
 * volume recognition area (2 KiB sectors 16 and up). */
#include "image/inspect-private.h"

#define ISO_SECTOR 2048
#define ISO_FIRST_VD 16

gboolean
sp_insp_probe_iso(const SpInspCtx *ctx)
{
    for (gsize s = ISO_FIRST_VD; (s + 1) * ISO_SECTOR <= ctx->head_len; s++) {
        gsize off = s * ISO_SECTOR + 1;

        if (sp_insp_head_has(ctx, off, "CD001", 5) ||
            sp_insp_head_has(ctx, off, "NSR02", 5) ||
            sp_insp_head_has(ctx, off, "NSR03", 5))
            return TRUE;
    }
    return FALSE;
}
