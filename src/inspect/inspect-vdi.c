/* VirtualBox vdi: only the dynamic and static image types qemu supports
 * (differencing images point at a parent by UUID). */
#include "inspect/inspect-private.h"

#define VDI_SIGNATURE 0xBEDA107Fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_TYPE_DYNAMIC 1
#define VDI_TYPE_STATIC 2
#define VDI_HEADER 0x200
#define VDI_BLOCK_SIZE (1024 * 1024)

gboolean
sp_insp_probe_vdi(const SpInspCtx *ctx)
{
    return ctx->head_len >= 0x44 && sp_le32(ctx->head + 0x40) == VDI_SIGNATURE;
}

gboolean
sp_insp_check_vdi(SpInspCtx *ctx, GError **error)
{
    const guint8 *h = ctx->head;
    guint32 type, bmap, data, block_size, blocks;
    guint64 disk_size;

    if (ctx->head_len < VDI_HEADER) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    if (sp_le32(h + 0x44) != VDI_VERSION_1_1) {
        sp_insp_violation(ctx, "vdi-bad-version");
        return TRUE;
    }
    type = sp_le32(h + 0x4C);
    bmap = sp_le32(h + 0x154);
    data = sp_le32(h + 0x158);
    disk_size = sp_le64(h + 0x170);
    block_size = sp_le32(h + 0x178);
    blocks = sp_le32(h + 0x180);
    ctx->virtual_size = disk_size;

    if ((type != VDI_TYPE_DYNAMIC && type != VDI_TYPE_STATIC) ||
        !sp_insp_is_zero(h + 0x1B8, 16))
        sp_insp_violation(ctx, "vdi-image-type");
    if (block_size != VDI_BLOCK_SIZE || sp_le32(h + 0x17C) != 0 ||
        disk_size > (guint64)blocks * block_size || bmap % 512 || data % 512 ||
        bmap < VDI_HEADER || (guint64)bmap + (guint64)blocks * 4 > data ||
        bmap > ctx->file_size)
        sp_insp_violation(ctx, "vdi-header");
    return TRUE;
}
