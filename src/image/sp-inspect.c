/* safepool's image format inspector: detects the format from bounded reads
 * of the headers, then runs that family's safety checks (inspect-*.c). */
#include "image/sp-inspect.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/inspect-private.h"
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

    if (len > left) {
        sp_insp_violation(ctx, "read-limit-exceeded");
        len = (gsize)left;
    }
    if (off >= ctx->file_size)
        return 0;
    if (len > ctx->file_size - off)
        len = (gsize)(ctx->file_size - off);
    while (done < len) {
        ssize_t n = pread(ctx->fd, (guint8 *)buf + done, len - done,
                          (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sp_error_set_errno(error, errno,
                               _("image: read at offset %" G_GUINT64_FORMAT),
                               off + done);
            return -1;
        }
        if (n == 0)
            break;
        done += (gsize)n;
        ctx->bytes_read += (guint64)n;
    }
    return (gssize)done;
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

/* Returns the detected format, SP_FORMAT_LAST on I/O error.
 * Formats whose signature sits at the start of the file: exactly one may
 * match. Raw-disk signatures (ISO, partition tables, a trailing VHD footer)
 * are only considered when none does, since the data areas of the
 * container formats may hold anything. */
static SpFormat
detect(SpInspCtx *ctx, SpFormat *raw_kind, gboolean *ambiguous,
       gboolean *foreign, GError **error)
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
    SpFormat found = SP_FORMAT_UNKNOWN;

    *ambiguous = FALSE;
    *foreign = probe_foreign(ctx);
    *raw_kind = SP_FORMAT_RAW;
    for (gsize i = 0; i < G_N_ELEMENTS(primaries); i++) {
        if (!primaries[i].probe(ctx))
            continue;
        if (found != SP_FORMAT_UNKNOWN)
            *ambiguous = TRUE;
        found = primaries[i].format;
    }
    if (*foreign && found != SP_FORMAT_UNKNOWN) {
        *ambiguous = TRUE;
        *foreign = FALSE;
    }
    if (*ambiguous || *foreign)
        return SP_FORMAT_UNKNOWN;
    if (found != SP_FORMAT_UNKNOWN)
        return found;

    /* An ISO may also carry a partition table (isohybrid): it is an ISO. */
    if (ctx->file_size > SP_INSP_VRS_OFFSET) {
        gssize n;

        ctx->vrs = g_malloc(SP_INSP_VRS_SIZE);
        n = sp_insp_read(ctx, ctx->vrs, SP_INSP_VRS_SIZE, SP_INSP_VRS_OFFSET,
                         error);
        if (n < 0)
            return SP_FORMAT_LAST;
        ctx->vrs_len = (gsize)n;
    }
    if (sp_insp_probe_iso(ctx)) {
        *raw_kind = SP_FORMAT_ISO;
    } else {
        SpFormat part = sp_insp_probe_part(ctx);
        if (part != SP_FORMAT_UNKNOWN)
            *raw_kind = part;
    }
    if (!sp_insp_probe_vpc_footer(ctx, &ctx->vpc_footer_only, error))
        return SP_FORMAT_LAST;
    if (ctx->vpc_footer_only)
        return SP_FORMAT_VPC;
    return *raw_kind;
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
    default:
        /* raw and ISO: the guest sees the file's bytes */
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

SpInspectResult *
sp_inspect_fd(int fd, SpFormat expected, const SpPolicy *policy, GError **error)
{
    SpPolicy pol;
    g_autofree guint8 *head = NULL;
    g_autoptr(GPtrArray) violations = g_ptr_array_new_with_free_func(g_free);
    SpInspCtx ctx = {0};
    SpFormat detected, raw_kind, format;
    gboolean ambiguous, foreign;
    gssize n;
    SpInspectResult *r;

    ctx.fd = fd;
    ctx.policy = effective_policy(policy, &pol);
    ctx.budget = pol.max_image_read;
    ctx.violations = violations;
    if (!file_size_of(fd, &ctx.file_size, error))
        return NULL;
    head = g_malloc0(SP_INSP_HEAD_SIZE);
    n = sp_insp_read(&ctx, head, SP_INSP_HEAD_SIZE, 0, error);
    if (n < 0)
        return NULL;
    ctx.head = head;
    ctx.head_len = (gsize)n;

    detected = detect(&ctx, &raw_kind, &ambiguous, &foreign, error);
    g_clear_pointer(&ctx.vrs, g_free);
    if (detected == SP_FORMAT_LAST)
        return NULL;
    format = detected;
    if (ambiguous) {
        sp_insp_violation(&ctx, "ambiguous-format");
    } else if (foreign) {
        sp_insp_violation(&ctx, "unsupported-format");
    } else {
        /* A trailing VHD footer does not change what qemu reads as raw. */
        if (expected == SP_FORMAT_RAW && ctx.vpc_footer_only)
            format = raw_kind;
        if (!check_format(&ctx, format, error))
            return NULL;
        if (pol.max_capacity && ctx.virtual_size > pol.max_capacity)
            sp_insp_violation(&ctx, "virtual-size-over-limit");
    }
    if (expected != SP_FORMAT_UNKNOWN && !sp_format_satisfies(format, expected))
        sp_insp_violation(&ctx, "format-mismatch");

    r = g_new0(SpInspectResult, 1);
    r->format = format;
    r->virtual_size = ctx.virtual_size;
    r->violations = g_steal_pointer(&violations);
    r->safe = r->violations->len == 0;
    r->bytes_read = ctx.bytes_read;
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

gboolean
sp_inspect_check(int fd, SpFormat expected, const SpPolicy *policy,
                 const char *what, guint64 *virtual_size, GError **error)
{
    g_autoptr(SpInspectResult) r = sp_inspect_fd(fd, expected, policy, error);
    g_autofree char *list = NULL;
    gboolean only_format;

    if (!r)
        return FALSE;
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
