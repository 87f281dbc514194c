/* Internals shared by the inspector's format families: one context per
 * inspected file, a budgeted read helper and the per-format entry points. */
#pragma once

#include <glib.h>
#include <string.h>

#include "inspect/sp-inspect.h"

/* Bytes of the file read up front: every signature at the start, a vmdk
 * descriptor and a LUKS2 JSON area of the usual sizes. */
#define SP_INSP_HEAD_SIZE (16 * 1024)
/* The ISO/UDF volume recognition area (2 KiB sectors 16..31), read only
 * for files without a container signature. */
#define SP_INSP_VRS_OFFSET (32 * 1024)
#define SP_INSP_VRS_SIZE (32 * 1024)

typedef struct {
    const SpInspReader *reader; /* where the image's bytes come from */
    guint64 file_size;
    guint64 budget; /* max bytes this inspection may read */
    guint64 bytes_read;
    const SpPolicy *policy; /* never NULL (defaults filled in) */
    guint8 *head;           /* first head_len bytes of the file */
    gsize head_len;
    guint8 *vrs; /* SP_INSP_VRS_OFFSET.. (NULL until read) */
    gsize vrs_len;
    GPtrArray *violations;
    guint64 virtual_size;
    gboolean vpc_footer_only; /* VHD recognised only by a trailing footer */
    char *backing_name;       /* qcow2: as stored in the header */
    char *backing_format;     /* qcow2: the backing format extension */
} SpInspCtx;

/* Read up to @len bytes at @off: from the head when it holds them, else
 * through ctx->reader (short only at EOF or when the read budget is spent; the
 * latter adds "read-limit-exceeded"). -1 + @error on I/O errors. The one
 * way every format family reads. */
gssize sp_insp_read(SpInspCtx *ctx, void *buf, gsize len, guint64 off,
                    GError **error);

/* Add a violation once (stable name, see docs/inspector.md). */
void sp_insp_violation(SpInspCtx *ctx, const char *name);

static inline guint16
sp_le16(const guint8 *p)
{
    return (guint16)(p[0] | (p[1] << 8));
}
static inline guint32
sp_le32(const guint8 *p)
{
    return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16) |
           ((guint32)p[3] << 24);
}
static inline guint64
sp_le64(const guint8 *p)
{
    return (guint64)sp_le32(p) | ((guint64)sp_le32(p + 4) << 32);
}
/* All @len bytes zero (reserved/GUID fields that must be empty). */
static inline gboolean
sp_insp_is_zero(const guint8 *p, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (p[i])
            return FALSE;
    }
    return TRUE;
}
static inline guint16
sp_be16(const guint8 *p)
{
    return (guint16)((p[0] << 8) | p[1]);
}
static inline guint32
sp_be32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) |
           ((guint32)p[2] << 8) | (guint32)p[3];
}
static inline guint64
sp_be64(const guint8 *p)
{
    return ((guint64)sp_be32(p) << 32) | (guint64)sp_be32(p + 4);
}

/* Whether the head holds @len bytes equal to @magic at @off. */
static inline gboolean
sp_insp_head_has(const SpInspCtx *ctx, gsize off, const void *magic, gsize len)
{
    return off + len <= ctx->head_len &&
           memcmp(ctx->head + off, magic, len) == 0;
}

/* Probes look only at ctx->head (and for VHD at the trailing footer). */
gboolean sp_insp_probe_qcow2(const SpInspCtx *ctx);
gboolean sp_insp_probe_qed(const SpInspCtx *ctx);
gboolean sp_insp_probe_vmdk(const SpInspCtx *ctx);
gboolean sp_insp_probe_vpc(const SpInspCtx *ctx);
gboolean sp_insp_probe_vhdx(const SpInspCtx *ctx);
gboolean sp_insp_probe_vdi(const SpInspCtx *ctx);
gboolean sp_insp_probe_iso(const SpInspCtx *ctx);
gboolean sp_insp_probe_luks(const SpInspCtx *ctx);
/* Returns SP_FORMAT_GPT, SP_FORMAT_MBR or SP_FORMAT_UNKNOWN. */
SpFormat sp_insp_probe_part(const SpInspCtx *ctx);
/* The same, but only for a plausible table (every boot flag 0x00 or 0x80,
 * at least one partition): the test applied to files that already carry
 * a container signature, whose first sector may hold random bytes (a
 * LUKS1 key slot's salt covers offset 510). */
SpFormat sp_insp_probe_part_strict(const SpInspCtx *ctx);
/* A fixed VHD has its only footer in the last 512 bytes: sets @found.
 * FALSE only on I/O error. */
gboolean sp_insp_probe_vpc_footer(SpInspCtx *ctx, gboolean *found,
                                  GError **error);

/* Checks: set ctx->virtual_size, add violations. FALSE only on I/O error. */
gboolean sp_insp_check_qcow2(SpInspCtx *ctx, GError **error);
gboolean sp_insp_check_qed(SpInspCtx *ctx, GError **error);
gboolean sp_insp_check_vmdk(SpInspCtx *ctx, GError **error);
gboolean sp_insp_check_vpc(SpInspCtx *ctx, GError **error);
gboolean sp_insp_check_vhdx(SpInspCtx *ctx, GError **error);
gboolean sp_insp_check_vdi(SpInspCtx *ctx, GError **error);
gboolean sp_insp_check_luks(SpInspCtx *ctx, GError **error);
gboolean sp_insp_check_part(SpInspCtx *ctx, SpFormat part, GError **error);
/* Sets the virtual size from the primary volume descriptor. */
gboolean sp_insp_check_iso(SpInspCtx *ctx, GError **error);
