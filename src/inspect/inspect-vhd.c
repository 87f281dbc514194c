/* Microsoft vhd (qemu's "vpc") and vhdx: footers, dynamic headers, region
 * and metadata tables; differencing disks name a parent and are refused. */
#include "inspect/inspect-private.h"

#define VHD_FOOTER 512
#define VHD_FIXED 2
#define VHD_DYNAMIC 3
#define VHD_DIFF 4
#define VHD_MAX_GEOMETRY (65535ull * 16 * 255)

gboolean
sp_insp_probe_vpc(const SpInspCtx *ctx)
{
    return sp_insp_head_has(ctx, 0, "conectix", 8);
}

static gboolean
read_tail_footer(SpInspCtx *ctx, guint8 *f, gboolean *found, GError **error)
{
    gssize n;

    *found = FALSE;
    if (ctx->file_size < VHD_FOOTER)
        return TRUE;
    n = sp_insp_read(ctx, f, VHD_FOOTER, ctx->file_size - VHD_FOOTER, error);
    if (n < 0)
        return FALSE;
    *found = n == VHD_FOOTER && memcmp(f, "conectix", 8) == 0;
    return TRUE;
}

gboolean
sp_insp_probe_vpc_footer(SpInspCtx *ctx, gboolean *found, GError **error)
{
    guint8 f[VHD_FOOTER];

    return read_tail_footer(ctx, f, found, error);
}

/* qemu sizes a vhd from its CHS geometry unless the creator is known to
 * use the footer's current size (or the geometry is at its maximum). */
static guint64
footer_size(const guint8 *f)
{
    static const char *const by_size[] = {"win ", "qem2", "d2v ", "CTXS"};
    guint64 sectors = (guint64)sp_be16(f + 56) * f[58] * f[59];
    gboolean use_chs = memcmp(f + 28, "tap\0", 4) != 0;

    for (gsize i = 0; i < G_N_ELEMENTS(by_size); i++) {
        if (memcmp(f + 28, by_size[i], 4) == 0)
            use_chs = FALSE;
    }
    if (!use_chs || sectors == VHD_MAX_GEOMETRY)
        sectors = sp_be64(f + 48) / 512;
    return sectors * 512;
}

gboolean
sp_insp_check_vpc(SpInspCtx *ctx, GError **error)
{
    guint8 f[VHD_FOOTER];
    guint8 dyn[1024];
    guint32 type, entries, block;
    guint64 dyn_off, bat_off;
    gboolean found = FALSE;
    gssize n;

    if (sp_insp_head_has(ctx, 0, "conectix", 8)) {
        if (ctx->head_len < VHD_FOOTER) {
            sp_insp_violation(ctx, "truncated-header");
            return TRUE;
        }
        memcpy(f, ctx->head, VHD_FOOTER);
    } else {
        if (!read_tail_footer(ctx, f, &found, error))
            return FALSE;
        if (!found) {
            sp_insp_violation(ctx, "truncated-header");
            return TRUE;
        }
    }
    type = sp_be32(f + 60);
    ctx->virtual_size = footer_size(f);
    if (type == VHD_DIFF)
        sp_insp_violation(ctx, "vpc-differencing");
    else if (type != VHD_FIXED && type != VHD_DYNAMIC)
        sp_insp_violation(ctx, "vpc-disk-type");
    if (type == VHD_FIXED) {
        if (ctx->virtual_size > ctx->file_size)
            sp_insp_violation(ctx, "vpc-size-beyond-eof");
        return TRUE;
    }
    if (type != VHD_DYNAMIC)
        return TRUE;

    dyn_off = sp_be64(f + 16);
    if (dyn_off > ctx->file_size || ctx->file_size - dyn_off < sizeof(dyn)) {
        sp_insp_violation(ctx, "vpc-header-beyond-eof");
        return TRUE;
    }
    n = sp_insp_read(ctx, dyn, sizeof(dyn), dyn_off, error);
    if (n < 0)
        return FALSE;
    if ((gsize)n < sizeof(dyn)) {
        sp_insp_violation(ctx, "vpc-header-beyond-eof");
        return TRUE;
    }
    if (memcmp(dyn, "cxsparse", 8) != 0) {
        sp_insp_violation(ctx, "vpc-dynamic-header");
        return TRUE;
    }
    bat_off = sp_be64(dyn + 16);
    entries = sp_be32(dyn + 28);
    block = sp_be32(dyn + 32);
    if (block < 512 || (block & (block - 1)) ||
        (guint64)entries * block < ctx->virtual_size)
        sp_insp_violation(ctx, "vpc-dynamic-header");
    if (bat_off > ctx->file_size ||
        (guint64)entries * 4 > ctx->file_size - bat_off)
        sp_insp_violation(ctx, "vpc-bat-beyond-eof");
    return TRUE;
}
