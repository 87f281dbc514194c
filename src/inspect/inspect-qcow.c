/* qcow2 (v2/v3) and qed: the formats whose headers can name other host
 * files (backing file, external data file). */
#include "inspect/inspect-private.h"

#define QCOW2_V2_HEADER 72
#define QCOW2_V3_HEADER 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

gboolean
sp_insp_probe_qcow2(const SpInspCtx *ctx)
{
    return sp_insp_head_has(ctx, 0, "QFI\xfb", 4);
}

gboolean
sp_insp_probe_qed(const SpInspCtx *ctx)
{
    return sp_insp_head_has(ctx, 0, "QED\0", 4);
}

/* Walk the header extensions, which qemu reads from the end of the header
 * up to the end of the first cluster. Only their 8-byte headers matter,
 * and the backing format, which is recorded for the caller to compare. */
#define QCOW2_MAX_EXTENSIONS 1024
/* qemu keeps the backing format in a char[16] and refuses longer ones. */
#define QCOW2_BACKING_FORMAT_MAX 15
/* qemu refuses a backing file name longer than this. */
#define QCOW2_BACKING_NAME_MAX 1023

static gboolean
read_backing_format(SpInspCtx *ctx, guint64 off, guint32 len, GError **error)
{
    char fmt[QCOW2_BACKING_FORMAT_MAX + 1] = {0};
    gssize n;

    if (len > QCOW2_BACKING_FORMAT_MAX) {
        sp_insp_violation(ctx, "qcow2-header-extension");
        return TRUE;
    }
    n = sp_insp_read(ctx, fmt, len, off, error);
    if (n < 0)
        return FALSE;
    if ((gsize)n < len) {
        sp_insp_violation(ctx, "qcow2-header-extension");
        return TRUE;
    }
    g_free(ctx->backing_format);
    ctx->backing_format = g_strndup(fmt, len);
    return TRUE;
}

static gboolean
check_extensions(SpInspCtx *ctx, guint64 start, guint64 cluster_end,
                 GError **error)
{
    guint64 off = start;

    for (guint i = 0;; i++) {
        guint8 eh[8];
        guint32 type, len;
        gssize n;

        if (off + 8 > cluster_end)
            return TRUE;
        if (i == QCOW2_MAX_EXTENSIONS) {
            sp_insp_violation(ctx, "qcow2-header-extension");
            return TRUE;
        }
        n = sp_insp_read(ctx, eh, sizeof(eh), off, error);
        if (n < 0)
            return FALSE;
        if (n < (gssize)sizeof(eh)) {
            /* past EOF (qemu fails to read it) or out of budget */
            sp_insp_violation(ctx, "qcow2-header-extension");
            return TRUE;
        }
        type = sp_be32(eh);
        len = sp_be32(eh + 4);
        if (type == QCOW2_EXT_END)
            return TRUE;
        off += 8;
        if (len > cluster_end - off) {
            sp_insp_violation(ctx, "qcow2-header-extension");
            return TRUE;
        }
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
            sp_insp_violation(ctx, "qcow2-backing-format");
            if (!read_backing_format(ctx, off, len, error))
                return FALSE;
            break;
        case QCOW2_EXT_DATA_FILE:
            sp_insp_violation(ctx, "qcow2-data-file");
            break;
        default:
            /* feature table, bitmaps, crypto header, and unknown ones are
             * ignored by qemu and name nothing outside the image */
            break;
        }
        off += ((guint64)len + 7) & ~(guint64)7;
    }
}

/* The backing file name as stored (qemu reads it from the first cluster). */
static gboolean
read_backing_name(SpInspCtx *ctx, guint64 off, guint32 len,
                  guint64 cluster_size, GError **error)
{
    g_autofree char *name = NULL;
    gssize n;

    if (off == 0 || len == 0 || len > QCOW2_BACKING_NAME_MAX ||
        off > cluster_size || len > cluster_size - off)
        return TRUE; /* refused through the violations already added */
    name = g_malloc0((gsize)len + 1);
    n = sp_insp_read(ctx, name, len, off, error);
    if (n < 0)
        return FALSE;
    if ((gsize)n < len) {
        sp_insp_violation(ctx, "qcow2-backing-offset-out-of-header");
        return TRUE;
    }
    ctx->backing_name = g_steal_pointer(&name);
    return TRUE;
}

gboolean
sp_insp_check_qcow2(SpInspCtx *ctx, GError **error)
{
    const guint8 *h = ctx->head;
    guint32 version, cluster_bits, header_len, backing_size, l1_size;
    guint64 cluster_size, backing_off, l1_off, incompat;

    if (ctx->head_len < QCOW2_V2_HEADER) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    version = sp_be32(h + 4);
    backing_off = sp_be64(h + 8);
    backing_size = sp_be32(h + 16);
    cluster_bits = sp_be32(h + 20);
    ctx->virtual_size = sp_be64(h + 24);
    l1_size = sp_be32(h + 36);
    l1_off = sp_be64(h + 40);

    if (version != 2 && version != 3) {
        sp_insp_violation(ctx, "qcow2-bad-version");
        return TRUE;
    }
    header_len = QCOW2_V2_HEADER;
    incompat = 0;
    if (version == 3) {
        if (ctx->head_len < QCOW2_V3_HEADER) {
            sp_insp_violation(ctx, "truncated-header");
            return TRUE;
        }
        incompat = sp_be64(h + 72);
        header_len = sp_be32(h + 100);
        if (header_len < QCOW2_V3_HEADER || header_len % 8 != 0) {
            sp_insp_violation(ctx, "qcow2-header-length");
            return TRUE;
        }
    }
    if (cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
        cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        sp_insp_violation(ctx, "qcow2-cluster-size");
        return TRUE;
    }
    cluster_size = 1ull << cluster_bits;
    if (header_len > cluster_size) {
        sp_insp_violation(ctx, "qcow2-header-length");
        return TRUE;
    }

    if (backing_off != 0 || backing_size != 0)
        sp_insp_violation(ctx, "qcow2-backing-file");
    if (backing_off != 0 && (backing_off > cluster_size ||
                             backing_size > cluster_size - backing_off))
        sp_insp_violation(ctx, "qcow2-backing-offset-out-of-header");
    if (backing_size > QCOW2_BACKING_NAME_MAX)
        sp_insp_violation(ctx, "qcow2-backing-file");
    if (!read_backing_name(ctx, backing_off, backing_size, cluster_size, error))
        return FALSE;

    if (incompat & QCOW2_INCOMPAT_DATA_FILE)
        sp_insp_violation(ctx, "qcow2-data-file");
    if (incompat & QCOW2_INCOMPAT_CORRUPT)
        sp_insp_violation(ctx, "qcow2-corrupt");
    if ((incompat & QCOW2_INCOMPAT_EXTL2) && !ctx->policy->allow_extended_l2)
        sp_insp_violation(ctx, "qcow2-extended-l2-refused");
    if (incompat & ~QCOW2_INCOMPAT_KNOWN)
        sp_insp_violation(ctx, "qcow2-unknown-incompatible-feature");
    if (sp_be32(h + 32) > 2)
        sp_insp_violation(ctx, "qcow2-encryption-method");

    /* The L1 table must lie inside the file: an image that claims more
     * than it holds is refused before qemu walks it. */
    if (l1_off % cluster_size != 0 || l1_off > ctx->file_size ||
        (guint64)l1_size * 8 > ctx->file_size - l1_off)
        sp_insp_violation(ctx, "qcow2-l1-beyond-eof");
    else if (l1_off == 0 && l1_size != 0)
        sp_insp_violation(ctx, "qcow2-l1-beyond-eof");

    /* Header extensions live in the rest of the first cluster. */
    return check_extensions(ctx, header_len, cluster_size, error);
}

/* QED is refused outright (its backing-file handling and probing history
 * make it not worth supporting); its size is still reported. */
gboolean
sp_insp_check_qed(SpInspCtx *ctx, GError **error)
{
    const guint8 *h = ctx->head;

    sp_insp_violation(ctx, "qed-refused");
    if (ctx->head_len < 64) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    ctx->virtual_size = sp_le64(h + 48);
    if (sp_le32(h + 56) != 0 || sp_le32(h + 60) != 0)
        sp_insp_violation(ctx, "qed-backing-file");
    return TRUE;
}
