/* safepool's image format inspector: detects the format from bounded reads
 * of the headers, then runs that family's safety checks (inspect-*.c). */
#include "inspect/sp-inspect.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect/inspect-private.h"
#include "util/sp-error.h"
#include "util/sp-i18n.h"

/* Used when the caller passes no policy (or a field is left at 0): the
 * documented defaults of xml/safepool.conf. */
#define SP_INSP_DEFAULT_READ (1024 * 1024)

void
sp_inspect_result_free(SpInspectResult *r)
{
    if (!r)
        return;
    if (r->violations)
        g_ptr_array_unref(r->violations);
    g_free(r->backing_name);
    g_free(r->backing_format);
    g_free(r);
}

void
sp_insp_violation(SpInspCtx *ctx, const char *name)
{
    for (guint i = 0; i < ctx->violations->len; i++) {
        if (strcmp(g_ptr_array_index(ctx->violations, i), name) == 0)
            return;
    }
    g_ptr_array_add(ctx->violations, g_strdup(name));
}

gssize
sp_insp_read(SpInspCtx *ctx, void *buf, gsize len, guint64 off, GError **error)
{
    guint64 left = ctx->budget - ctx->bytes_read;
    gsize done = 0;

    /* Already read once with the head: served from it, at no cost. */
    if (ctx->head && off <= ctx->head_len && len <= ctx->head_len - off) {
        memcpy(buf, ctx->head + off, len);
        return (gssize)len;
    }
    if (len > left) {
        sp_insp_violation(ctx, "read-limit-exceeded");
        len = (gsize)left;
    }
    if (off >= ctx->file_size)
        return 0;
    if (len > ctx->file_size - off)
        len = (gsize)(ctx->file_size - off);
    while (done < len) {
        gssize n = ctx->reader->pread(ctx->reader->opaque, (guint8 *)buf + done,
                                      len - done, off + done, error);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        done += (gsize)n;
        ctx->bytes_read += (guint64)n;
    }
    return (gssize)done;
}

/* The reader of a file: pread on its fd. */
static gssize
fd_pread(void *opaque, void *buf, gsize len, guint64 off, GError **error)
{
    int fd = GPOINTER_TO_INT(opaque);

    for (;;) {
        ssize_t n = pread(fd, buf, len, (off_t)off);

        if (n >= 0)
            return n;
        if (errno != EINTR) {
            sp_error_set_errno(error, errno,
                               _("image: read at offset %" G_GUINT64_FORMAT),
                               off);
            return -1;
        }
    }
}

static gboolean
file_size_of(int fd, guint64 *size, GError **error)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return sp_error_set_errno(error, errno, _("image: fstat"));
    if (S_ISREG(st.st_mode)) {
        *size = (guint64)st.st_size;
        return TRUE;
    }
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0)
            return sp_error_set_errno(error, errno, _("image: lseek"));
        *size = (guint64)end;
        return TRUE;
    }
    g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                _("image: not a regular file or block device"));
    return FALSE;
}

/* Signatures of formats safepool does not handle but that qemu (or, for
 * UML's cow, libvirt's pool refresh) recognises when it probes a file. A
 * "raw" file carrying one would be read as that format by the next tool
 * that probes it; qemu's own probe rules, taken at least as wide. */
static gboolean
probe_foreign(const SpInspCtx *ctx)
{
#define SIG(s)                                                                 \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }
    static const struct {
        const char *magic;
        gsize len;
    } sigs[] = {
        /* qemu bochs: magic, then type "Redolog" */
        SIG("Bochs Virtual HD Image"),
        /* qemu cloop v2.0 */
        SIG("#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t "
            "iso9660 /dev/cloop $1\n"),
        /* qemu parallels (and libvirt's ploop) */
        SIG("WithoutFreeSpace"),
        SIG("WithouFreSpacExt"),
        /* libvirt's cow: magic, version 2; its header names a backing file */
        SIG("OOOM\0\0\0\2"),
    };
#undef SIG

    for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++) {
        if (sp_insp_head_has(ctx, 0, sigs[i].magic, sigs[i].len))
            return TRUE;
    }
    return FALSE;
}

typedef struct {
    SpFormat format;   /* what the file is read as */
    SpFormat raw_kind; /* RAW, ISO, GPT or MBR: what its bytes look like */
    guint32 formats;   /* every signature that matched */
    gboolean ambiguous;
    gboolean foreign;
} SpInspDetect;

/* The ISO/UDF volume recognition area. With a container format at the
 * start only sector 16 is read: every ISO 9660 or UDF volume has its
 * first descriptor there, and that is enough to see two formats at once. */
static gboolean
read_vrs(SpInspCtx *ctx, gboolean first_sector_only, GError **error)
{
    gsize want = first_sector_only ? 2048 : SP_INSP_VRS_SIZE;
    gssize n;

    if (ctx->file_size <= SP_INSP_VRS_OFFSET)
        return TRUE;
    ctx->vrs = g_malloc(want);
    n = sp_insp_read(ctx, ctx->vrs, want, SP_INSP_VRS_OFFSET, error);
    if (n < 0)
        return FALSE;
    ctx->vrs_len = (gsize)n;
    return TRUE;
}

/* Formats whose signature sits at the start of the file: exactly one may
 * match. Every file is also looked at as a raw disk (ISO, partition
 * table): an image that is a container and an ISO or a partitioned disk
 * at once is ambiguous (oslo.utils refuses it too); only an ISO with a
 * partition table (isohybrid) is a known pair. A trailing VHD footer is
 * considered only for files with no other signature, since qemu does not
 * probe for it and the end of a container may hold guest data. FALSE on
 * I/O error. */
static gboolean
detect(SpInspCtx *ctx, SpInspDetect *d, GError **error)
{
    static const struct {
        SpFormat format;
        gboolean (*probe)(const SpInspCtx *ctx);
    } primaries[] = {
        {SP_FORMAT_QCOW2, sp_insp_probe_qcow2},
        {SP_FORMAT_QED, sp_insp_probe_qed},
        {SP_FORMAT_VMDK, sp_insp_probe_vmdk},
        {SP_FORMAT_VPC, sp_insp_probe_vpc},
        {SP_FORMAT_VHDX, sp_insp_probe_vhdx},
        {SP_FORMAT_VDI, sp_insp_probe_vdi},
        {SP_FORMAT_LUKS, sp_insp_probe_luks},
    };
    SpFormat found = SP_FORMAT_UNKNOWN, part;
    guint n_primary = 0;

    memset(d, 0, sizeof(*d));
    d->raw_kind = SP_FORMAT_RAW;
    d->foreign = probe_foreign(ctx);
    for (gsize i = 0; i < G_N_ELEMENTS(primaries); i++) {
        if (!primaries[i].probe(ctx))
            continue;
        n_primary++;
        found = primaries[i].format;
        d->formats |= SP_FORMAT_BIT(found);
    }
    if (!read_vrs(ctx, n_primary > 0, error))
        return FALSE;
    if (sp_insp_probe_iso(ctx)) {
        d->raw_kind = SP_FORMAT_ISO;
        d->formats |= SP_FORMAT_BIT(SP_FORMAT_ISO);
    }
    part = n_primary > 0 ? sp_insp_probe_part_strict(ctx)
                         : sp_insp_probe_part(ctx);
    if (part != SP_FORMAT_UNKNOWN) {
        /* An ISO that also carries a partition table is an ISO. */
        if (d->raw_kind == SP_FORMAT_RAW)
            d->raw_kind = part;
        d->formats |= SP_FORMAT_BIT(part);
    }
    d->ambiguous = n_primary > 1 || (n_primary == 1 && d->foreign) ||
                   (n_primary == 1 && d->raw_kind != SP_FORMAT_RAW);
    if (d->ambiguous || d->foreign) {
        d->foreign = d->foreign && !d->ambiguous;
        d->format = SP_FORMAT_UNKNOWN;
        return TRUE;
    }
    if (found != SP_FORMAT_UNKNOWN) {
        d->format = found;
        return TRUE;
    }
    if (!sp_insp_probe_vpc_footer(ctx, &ctx->vpc_footer_only, error))
        return FALSE;
    if (ctx->vpc_footer_only) {
        d->formats |= SP_FORMAT_BIT(SP_FORMAT_VPC);
        d->format = SP_FORMAT_VPC;
        return TRUE;
    }
    d->format = d->raw_kind;
    if (d->formats == 0)
        d->formats = SP_FORMAT_BIT(SP_FORMAT_RAW);
    return TRUE;
}

static gboolean
check_format(SpInspCtx *ctx, SpFormat format, GError **error)
{
    switch (format) {
    case SP_FORMAT_QCOW2:
        return sp_insp_check_qcow2(ctx, error);
    case SP_FORMAT_QED:
        return sp_insp_check_qed(ctx, error);
    case SP_FORMAT_VMDK:
        return sp_insp_check_vmdk(ctx, error);
    case SP_FORMAT_VPC:
        return sp_insp_check_vpc(ctx, error);
    case SP_FORMAT_VHDX:
        return sp_insp_check_vhdx(ctx, error);
    case SP_FORMAT_VDI:
        return sp_insp_check_vdi(ctx, error);
    case SP_FORMAT_LUKS:
        return sp_insp_check_luks(ctx, error);
    case SP_FORMAT_GPT:
    case SP_FORMAT_MBR:
        ctx->virtual_size = ctx->file_size;
        return sp_insp_check_part(ctx, format, error);
    case SP_FORMAT_ISO:
        return sp_insp_check_iso(ctx, error);
    default:
        /* raw: the guest sees the file's bytes */
        ctx->virtual_size = ctx->file_size;
        return TRUE;
    }
}

static const SpPolicy *
effective_policy(const SpPolicy *policy, SpPolicy *tmp)
{
    if (policy) {
        *tmp = *policy;
    } else {
        memset(tmp, 0, sizeof(*tmp));
        tmp->allow_extended_l2 = TRUE;
        tmp->luks_versions = (1u << 1) | (1u << 2);
    }
    if (tmp->max_image_read == 0)
        tmp->max_image_read = SP_INSP_DEFAULT_READ;
    return tmp;
}

static void
sp_insp_ctx_clear(SpInspCtx *ctx)
{
    g_clear_pointer(&ctx->vrs, g_free);
    g_clear_pointer(&ctx->backing_name, g_free);
    g_clear_pointer(&ctx->backing_format, g_free);
}

SpInspectResult *
sp_inspect_fd(int fd, SpFormat expected, const SpPolicy *policy, GError **error)
{
    SpInspReader reader = {fd_pread, GINT_TO_POINTER(fd), 0};

    if (!file_size_of(fd, &reader.size, error))
        return NULL;
    return sp_inspect_reader(&reader, expected, policy, error);
}

SpInspectResult *
sp_inspect_reader(const SpInspReader *reader, SpFormat expected,
                  const SpPolicy *policy, GError **error)
{
    SpPolicy pol;
    g_autofree guint8 *head = NULL;
    g_autoptr(GPtrArray) violations = g_ptr_array_new_with_free_func(g_free);
    SpInspCtx ctx = {0};
    SpInspDetect d;
    SpFormat format;
    gssize n;
    SpInspectResult *r;

    ctx.reader = reader;
    ctx.file_size = reader->size;
    ctx.policy = effective_policy(policy, &pol);
    ctx.budget = pol.max_image_read;
    ctx.violations = violations;
    head = g_malloc0(SP_INSP_HEAD_SIZE);
    n = sp_insp_read(&ctx, head, SP_INSP_HEAD_SIZE, 0, error);
    if (n < 0)
        return NULL;
    ctx.head = head;
    ctx.head_len = (gsize)n;

    if (!detect(&ctx, &d, error)) {
        sp_insp_ctx_clear(&ctx);
        return NULL;
    }
    format = d.format;
    if (d.ambiguous) {
        sp_insp_violation(&ctx, "ambiguous-format");
    } else if (d.foreign) {
        sp_insp_violation(&ctx, "unsupported-format");
    } else {
        /* A trailing VHD footer does not change what qemu reads as raw. */
        if (expected == SP_FORMAT_RAW && ctx.vpc_footer_only)
            format = d.raw_kind;
        if (!check_format(&ctx, format, error)) {
            sp_insp_ctx_clear(&ctx);
            return NULL;
        }
        /* Read as raw, the guest sees the file's bytes, however an ISO's
         * descriptor sizes its volume. */
        if (expected == SP_FORMAT_RAW &&
            sp_format_satisfies(format, SP_FORMAT_RAW))
            ctx.virtual_size = ctx.file_size;
        if (pol.max_capacity && ctx.virtual_size > pol.max_capacity)
            sp_insp_violation(&ctx, "virtual-size-over-limit");
    }
    if (expected != SP_FORMAT_UNKNOWN && !sp_format_satisfies(format, expected))
        sp_insp_violation(&ctx, "format-mismatch");

    r = g_new0(SpInspectResult, 1);
    r->format = format;
    r->formats = d.formats;
    r->virtual_size = ctx.virtual_size;
    r->violations = g_steal_pointer(&violations);
    r->safe = r->violations->len == 0;
    r->bytes_read = ctx.bytes_read;
    r->backing_name = g_steal_pointer(&ctx.backing_name);
    r->backing_format = g_steal_pointer(&ctx.backing_format);
    sp_insp_ctx_clear(&ctx);
    return r;
}

char *
sp_inspect_violations_string(const SpInspectResult *r)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < r->violations->len; i++) {
        if (i)
            g_string_append(s, ", ");
        g_string_append(s, g_ptr_array_index(r->violations, i));
    }
    return g_string_free(s, FALSE);
}

char *
sp_inspect_formats_string(const SpInspectResult *r)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (int f = SP_FORMAT_RAW; f < SP_FORMAT_LAST; f++) {
        if (!(r->formats & SP_FORMAT_BIT(f)))
            continue;
        if (s->len)
            g_string_append_c(s, '+');
        g_string_append(s, sp_format_to_string((SpFormat)f));
    }
    if (!s->len)
        g_string_append(s, "unknown");
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The one verdict of the gate, whatever read the image. */
static gboolean
check_result(SpInspectResult *r, const char *what, guint64 *virtual_size,
             GError **error)
{
    g_autofree char *list = NULL;
    gboolean only_format;

    if (!r->safe) {
        list = sp_inspect_violations_string(r);
        only_format =
            r->violations->len == 1 &&
            strcmp(g_ptr_array_index(r->violations, 0), "format-mismatch") == 0;
        g_set_error(error, SP_ERROR,
                    only_format ? SP_ERROR_FORMAT_MISMATCH
                                : SP_ERROR_UNSAFE_IMAGE,
                    _("%s: unsafe image: %s"), what, list);
        return FALSE;
    }
    if (virtual_size)
        *virtual_size = r->virtual_size;
    return TRUE;
}

gboolean
sp_inspect_check(int fd, SpFormat expected, const SpPolicy *policy,
                 const char *what, guint64 *virtual_size, GError **error)
{
    g_autoptr(SpInspectResult) r = sp_inspect_fd(fd, expected, policy, error);

    return r && check_result(r, what, virtual_size, error);
}

gboolean
sp_inspect_check_reader(const SpInspReader *reader, SpFormat expected,
                        const SpPolicy *policy, const char *what,
                        guint64 *virtual_size, GError **error)
{
    g_autoptr(SpInspectResult) r =
        sp_inspect_reader(reader, expected, policy, error);

    return r && check_result(r, what, virtual_size, error);
}

gboolean
sp_inspect_virtual_size(int fd, SpFormat format, guint64 *size, GError **error)
{
    g_autoptr(SpInspectResult) r = NULL;
    guint8 h[32];
    struct stat st;

    switch (format) {
    case SP_FORMAT_RAW:
    case SP_FORMAT_GPT:
    case SP_FORMAT_MBR:
        if (fstat(fd, &st) < 0)
            return sp_error_set_errno(error, errno, _("image: fstat"));
        *size = (guint64)st.st_size;
        return TRUE;
    case SP_FORMAT_QCOW2:
        /* The one field, at a fixed offset: refreshing a pool of qcow2
         * volumes reads 32 bytes of each. */
        if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
            memcmp(h, "QFI\xfb", 4) != 0) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("image: no qcow2 header"));
            return FALSE;
        }
        *size = sp_be64(h + 24);
        return TRUE;
    default:
        /* Rare formats: the inspector's own reading of the size. */
        r = sp_inspect_fd(fd, format, NULL, error);
        if (!r)
            return FALSE;
        *size = r->virtual_size;
        return TRUE;
    }
}
