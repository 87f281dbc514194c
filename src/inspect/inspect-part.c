/* Raw disks with an MBR or GPT: the bytes are raw, but a partition table
 * with impossible entries is a sign of a forged or confused image. */
#include "inspect/inspect-private.h"

#define MBR_TABLE 446
#define MBR_ENTRY 16
#define MBR_TYPE_PROTECTIVE 0xEE

/* A FAT/NTFS/exFAT volume boot record also ends in 0x55AA: that is a bare
 * filesystem, not a partitioned disk. */
static gboolean
is_boot_record(const guint8 *h)
{
    if (!((h[0] == 0xEB && h[2] == 0x90) || h[0] == 0xE9))
        return FALSE;
    return memcmp(h + 3, "NTFS    ", 8) == 0 ||
           memcmp(h + 3, "EXFAT   ", 8) == 0 ||
           memcmp(h + 0x36, "FAT", 3) == 0 || memcmp(h + 0x52, "FAT32", 5) == 0;
}

SpFormat
sp_insp_probe_part(const SpInspCtx *ctx)
{
    const guint8 *h = ctx->head;

    if (ctx->head_len < 512 || h[510] != 0x55 || h[511] != 0xAA ||
        is_boot_record(h))
        return SP_FORMAT_UNKNOWN;
    if (sp_insp_head_has(ctx, 512, "EFI PART", 8) ||
        sp_insp_head_has(ctx, 4096, "EFI PART", 8))
        return SP_FORMAT_GPT;
    return SP_FORMAT_MBR;
}

SpFormat
sp_insp_probe_part_strict(const SpInspCtx *ctx)
{
    SpFormat part = sp_insp_probe_part(ctx);
    const guint8 *t = ctx->head + MBR_TABLE;
    guint used = 0;

    if (part == SP_FORMAT_UNKNOWN)
        return part;
    for (guint i = 0; i < 4; i++) {
        const guint8 *e = t + i * MBR_ENTRY;

        if (e[0] != 0x00 && e[0] != 0x80)
            return SP_FORMAT_UNKNOWN;
        if (e[4] != 0)
            used++;
    }
    return used ? part : SP_FORMAT_UNKNOWN;
}

gboolean
sp_insp_check_part(SpInspCtx *ctx, SpFormat part, GError **error)
{
    const guint8 *t = ctx->head + MBR_TABLE;
    gboolean protective = FALSE;
    guint used = 0;

    for (guint i = 0; i < 4; i++) {
        const guint8 *e = t + i * MBR_ENTRY;

        if (e[0] != 0x00 && e[0] != 0x80)
            sp_insp_violation(ctx, "mbr-boot-flag");
        if (e[4] == MBR_TYPE_PROTECTIVE)
            protective = TRUE;
        if (e[4] != 0)
            used++;
    }
    if (protective && used > 1)
        sp_insp_violation(ctx, "gpt-protective-not-alone");
    return TRUE;
}
