/* vmdk: the sparse (KDMV) header with its embedded descriptor, the footer
 * of streamOptimized images, and descriptor-only files. A descriptor can
 * name any host file as an extent, so only self-contained images pass. */
#include "inspect/inspect-private.h"

#define VMDK_SECTOR 512ull
#define VMDK_GD_AT_END G_MAXUINT64
#define VMDK_MAX_DESC (1024 * 1024)
#define VMDK_MARKER_EOS 0
#define VMDK_MARKER_FOOTER 3
/* qemu looks for a parent in this many bytes at the descriptor's start
 * (0x200 in a sparse file), whatever the header's descriptor size says. */
#define VMDK_QEMU_DESC_WINDOW (20 * 512)
#define VMDK_PARENT_KEY "parentFileNameHint"

gboolean
sp_insp_probe_vmdk(const SpInspCtx *ctx)
{
    const char *p = (const char *)ctx->head;
    const char *end = p + ctx->head_len;

    if (sp_insp_head_has(ctx, 0, "KDMV", 4) ||
        sp_insp_head_has(ctx, 0, "COWD", 4))
        return TRUE;
    /* Same rule as qemu's probe: comment and blank lines, then
     * "version=N" opens a descriptor file. */
    while (p < end) {
        if (*p == '#') {
            while (p < end && *p != '\n')
                p++;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\r' || *p == '\n' || *p == '\t') {
            p++;
            continue;
        }
        return end - p >= 9 && strncmp(p, "version=", 8) == 0 && p[8] >= '1' &&
               p[8] <= '3';
    }
    return FALSE;
}

typedef struct {
    guint32 version;
    guint32 flags;
    guint64 capacity;
    guint64 grain;
    guint64 desc_offset;
    guint64 desc_size;
    guint32 num_gtes;
    guint64 rgd_offset;
    guint64 gd_offset;
    guint64 overhead;
    guint16 compress;
} VmdkHeader;

static void
parse_header(const guint8 *h, VmdkHeader *v)
{
    v->version = sp_le32(h + 4);
    v->flags = sp_le32(h + 8);
    v->capacity = sp_le64(h + 12);
    v->grain = sp_le64(h + 20);
    v->desc_offset = sp_le64(h + 28);
    v->desc_size = sp_le64(h + 36);
    v->num_gtes = sp_le32(h + 44);
    v->rgd_offset = sp_le64(h + 48);
    v->gd_offset = sp_le64(h + 56);
    v->overhead = sp_le64(h + 64);
    v->compress = sp_le16(h + 77);
}

static gboolean
is_bad_path(const char *name)
{
    g_auto(GStrv) parts = NULL;

    if (name[0] == '/' || name[0] == '\0')
        return TRUE;
    parts = g_strsplit(name, "/", -1);
    for (guint i = 0; parts[i]; i++) {
        if (strcmp(parts[i], "..") == 0)
            return TRUE;
    }
    return FALSE;
}

/* qemu finds a parent by searching the raw descriptor bytes for the key,
 * not by parsing lines: a comment, a "ddb." prefix or bytes past the
 * declared descriptor size still name a backing file. Search the same
 * way, across NUL bytes too. */
static void
scan_parent_hint(SpInspCtx *ctx, const guint8 *buf, gsize len)
{
    if (memmem(buf, len, VMDK_PARENT_KEY, strlen(VMDK_PARENT_KEY)))
        sp_insp_violation(ctx, "vmdk-parent");
}

/* The window qemu searches for a parent, from the head (16 KiB covers
 * 0x200 + VMDK_QEMU_DESC_WINDOW). */
static void
scan_qemu_parent_window(SpInspCtx *ctx, gsize start)
{
    if (start < ctx->head_len)
        scan_parent_hint(ctx, ctx->head + start,
                         MIN(ctx->head_len - start, VMDK_QEMU_DESC_WINDOW));
}

/* One extent line: ACCESS SECTORS TYPE ["FILE" [OFFSET]]. */
static void
parse_extent(SpInspCtx *ctx, const char *line, gboolean embedded,
             guint64 *sectors_sum)
{
    g_auto(GStrv) f = g_strsplit_set(line, " \t", 4);
    guint64 sectors;
    const char *name, *q;
    g_autofree char *file = NULL;

    if (g_strv_length(f) < 3 ||
        !g_ascii_string_to_unsigned(f[1], 10, 0, G_MAXUINT64, &sectors, NULL)) {
        sp_insp_violation(ctx, "vmdk-descriptor-unknown-line");
        return;
    }
    if (sectors > G_MAXUINT64 / VMDK_SECTOR - *sectors_sum)
        sp_insp_violation(ctx, "virtual-size-over-limit");
    else
        *sectors_sum += sectors;
    if (strcmp(f[2], "SPARSE") != 0)
        sp_insp_violation(ctx, "vmdk-extent-type");
    if (!f[3]) {
        /* ZERO extents name no file */
        return;
    }
    name = f[3];
    if (name[0] != '"' || !(q = strchr(name + 1, '"'))) {
        sp_insp_violation(ctx, "vmdk-descriptor-unknown-line");
        return;
    }
    file = g_strndup(name + 1, (gsize)(q - name - 1));
    if (is_bad_path(file))
        sp_insp_violation(ctx, "vmdk-descriptor-path");
    /* qemu reads a sparse file's data from the file itself whatever its
     * embedded descriptor says, so a bare name (the image's own, possibly
     * from before a copy) is fine there; anything with a directory, or
     * any extent of a descriptor-only file, is another file. */
    if (!embedded || strchr(file, '/'))
        sp_insp_violation(ctx, "vmdk-extent-other-file");
}

static void
check_descriptor(SpInspCtx *ctx, const char *text, gsize len, gboolean embedded,
                 guint64 *sectors_sum)
{
    const char *p = text, *end = text + len;
    guint extents = 0;
    gboolean create_type = FALSE;

    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        g_autofree char *line =
            g_strndup(p, nl ? (gsize)(nl - p) : (gsize)(end - p));
        char *l = g_strstrip(line);
        char *eq, *key, *val;

        p = nl ? nl + 1 : end;

        if (l[0] == '\0' || l[0] == '#')
            continue;
        if (g_str_has_prefix(l, "RW ") || g_str_has_prefix(l, "RDONLY ") ||
            g_str_has_prefix(l, "NOACCESS ")) {
            extents++;
            parse_extent(ctx, l, embedded, sectors_sum);
            continue;
        }
        eq = strchr(l, '=');
        if (!eq) {
            sp_insp_violation(ctx, "vmdk-descriptor-unknown-line");
            continue;
        }
        *eq = '\0';
        key = g_strstrip(l);
        val = g_strstrip(eq + 1);
        if (val[0] == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
            val[strlen(val) - 1] = '\0';
            val++;
        }
        if (strcmp(key, "createType") == 0) {
            create_type = TRUE;
            if (strcmp(val, "monolithicSparse") != 0 &&
                strcmp(val, "streamOptimized") != 0)
                sp_insp_violation(ctx, "vmdk-create-type");
        } else if (strcmp(key, "parentCID") == 0) {
            if (g_ascii_strcasecmp(val, "ffffffff") != 0)
                sp_insp_violation(ctx, "vmdk-parent");
        } else if (strcmp(key, "parentFileNameHint") == 0) {
            sp_insp_violation(ctx, "vmdk-parent");
        } else if (strcmp(key, "version") == 0 || strcmp(key, "CID") == 0 ||
                   strcmp(key, "encoding") == 0 ||
                   strcmp(key, "isNativeSnapshot") == 0 ||
                   g_str_has_prefix(key, "ddb.")) {
            continue;
        } else {
            sp_insp_violation(ctx, "vmdk-descriptor-unknown-line");
        }
    }
    if (!create_type && !embedded)
        sp_insp_violation(ctx, "vmdk-create-type");
    if (extents != 1)
        sp_insp_violation(ctx, "vmdk-extent-count");
}

/* [off, off+len) of the file, NUL-terminated; its length in @got. */
static guint8 *
read_region(SpInspCtx *ctx, guint64 off, gsize len, gsize *got, GError **error)
{
    guint8 *buf = g_malloc0(len + 1);
    gssize n = sp_insp_read(ctx, buf, len, off, error);

    if (n < 0) {
        g_free(buf);
        return NULL;
    }
    *got = (gsize)n;
    return buf;
}

/* streamOptimized images may keep the grain directory at the end: the
 * header then defers to a footer, which must describe the same disk. */
static gboolean
check_footer(SpInspCtx *ctx, VmdkHeader *hdr, GError **error)
{
    guint8 f[1536];
    guint64 end = ctx->file_size / VMDK_SECTOR * VMDK_SECTOR;
    VmdkHeader ft;
    gssize n;

    if (end < sizeof(f) + VMDK_SECTOR) {
        sp_insp_violation(ctx, "vmdk-footer-mismatch");
        return TRUE;
    }
    n = sp_insp_read(ctx, f, sizeof(f), end - sizeof(f), error);
    if (n < 0)
        return FALSE;
    if ((gsize)n < sizeof(f) || memcmp(f + 512, "KDMV", 4) != 0 ||
        sp_le32(f + 8) != 0 || sp_le32(f + 12) != VMDK_MARKER_FOOTER ||
        sp_le64(f + 1024) != 0 || sp_le32(f + 1032) != 0 ||
        sp_le32(f + 1036) != VMDK_MARKER_EOS) {
        sp_insp_violation(ctx, "vmdk-footer-mismatch");
        return TRUE;
    }
    parse_header(f + 512, &ft);
    if (ft.version != hdr->version || ft.flags != hdr->flags ||
        ft.capacity != hdr->capacity || ft.grain != hdr->grain ||
        ft.desc_offset != hdr->desc_offset || ft.desc_size != hdr->desc_size ||
        ft.num_gtes != hdr->num_gtes || ft.overhead != hdr->overhead ||
        ft.compress != hdr->compress || ft.gd_offset == VMDK_GD_AT_END)
        sp_insp_violation(ctx, "vmdk-footer-mismatch");
    /* qemu uses the footer's values */
    *hdr = ft;
    return TRUE;
}

static gboolean
check_sparse(SpInspCtx *ctx, GError **error)
{
    VmdkHeader hdr;
    guint64 sectors_sum = 0;

    if (ctx->head_len < VMDK_SECTOR) {
        sp_insp_violation(ctx, "truncated-header");
        return TRUE;
    }
    parse_header(ctx->head, &hdr);
    if (hdr.version < 1 || hdr.version > 3)
        sp_insp_violation(ctx, "vmdk-bad-version");
    /* qemu opens a sparse header of capacity 0 that has a descriptor
     * offset as a descriptor file: the extents it lists (any host file)
     * are opened, whatever the descriptor size says. */
    if (hdr.capacity == 0 && hdr.desc_offset != 0)
        sp_insp_violation(ctx, "vmdk-zero-capacity");
    G_STATIC_ASSERT(VMDK_SECTOR + VMDK_QEMU_DESC_WINDOW <= SP_INSP_HEAD_SIZE);
    scan_qemu_parent_window(ctx, VMDK_SECTOR);
    if (hdr.gd_offset == VMDK_GD_AT_END && !check_footer(ctx, &hdr, error))
        return FALSE;

    if (hdr.capacity > G_MAXUINT64 / VMDK_SECTOR)
        sp_insp_violation(ctx, "virtual-size-over-limit");
    else
        ctx->virtual_size = hdr.capacity * VMDK_SECTOR;
    if (hdr.grain == 0 || hdr.grain > 0x200000 || (hdr.grain & (hdr.grain - 1)))
        sp_insp_violation(ctx, "vmdk-grain-size");
    if (hdr.num_gtes == 0 || hdr.num_gtes > 512)
        sp_insp_violation(ctx, "vmdk-gt-size");
    if (hdr.gd_offset != VMDK_GD_AT_END &&
        (hdr.gd_offset > ctx->file_size / VMDK_SECTOR))
        sp_insp_violation(ctx, "vmdk-gd-beyond-eof");

    if (hdr.desc_size == 0)
        return TRUE;
    if (hdr.desc_offset != 1)
        sp_insp_violation(ctx, "vmdk-descriptor-offset");
    if (hdr.desc_size >= VMDK_MAX_DESC / VMDK_SECTOR) {
        sp_insp_violation(ctx, "vmdk-descriptor-size");
        return TRUE;
    }
    if (hdr.desc_offset == 1) {
        gsize got;
        g_autofree guint8 *d =
            read_region(ctx, VMDK_SECTOR, (gsize)(hdr.desc_size * VMDK_SECTOR),
                        &got, error);
        if (!d)
            return FALSE;
        scan_parent_hint(ctx, d, got);
        check_descriptor(ctx, (const char *)d, strnlen((char *)d, got), TRUE,
                         &sectors_sum);
    }
    return TRUE;
}

gboolean
sp_insp_check_vmdk(SpInspCtx *ctx, GError **error)
{
    guint64 sectors_sum = 0;
    g_autofree guint8 *d = NULL;
    gsize got;

    if (sp_insp_head_has(ctx, 0, "KDMV", 4))
        return check_sparse(ctx, error);
    if (sp_insp_head_has(ctx, 0, "COWD", 4)) {
        /* VMware 3 images carry a parent file name in their header */
        sp_insp_violation(ctx, "vmdk-cowd-refused");
        return TRUE;
    }
    /* A descriptor-only file: every extent is another file. */
    if (ctx->file_size >= VMDK_MAX_DESC) {
        sp_insp_violation(ctx, "vmdk-descriptor-size");
        return TRUE;
    }
    d = read_region(ctx, 0, (gsize)ctx->file_size, &got, error);
    if (!d)
        return FALSE;
    scan_parent_hint(ctx, d, got);
    check_descriptor(ctx, (const char *)d, strnlen((char *)d, got), FALSE,
                     &sectors_sum);
    ctx->virtual_size = sectors_sum * VMDK_SECTOR;
    return TRUE;
}
