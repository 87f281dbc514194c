/* The planner: turns a validated volume definition into typed operations and
 * the exact qemu-img argv. Pure: it opens nothing and runs nothing. */
#include "image/sp-plan-private.h"

#include <inttypes.h>
#include <string.h>

#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"
#include "util/sp-secret.h"

static const char *const op_names[] = {
    [SP_OP_RAW_CREATE] = "raw-create",
    [SP_OP_RAW_CLONE] = "raw-clone",
    [SP_OP_RAW_RESIZE] = "raw-resize",
    [SP_OP_QEMU_IMG] = "qemu-img",
};

const char *
sp_op_kind_to_string(SpOpKind kind)
{
    if ((gsize)kind >= G_N_ELEMENTS(op_names))
        return "unknown";
    return op_names[kind];
}

static void
sp_operation_free(SpOperation *op)
{
    if (!op)
        return;
    g_strfreev(op->argv);
    g_free(op->writes);
    g_strfreev(op->reads);
    g_free(op);
}

void
sp_plan_free(SpPlan *p)
{
    if (!p)
        return;
    g_free(p->volume);
    g_free(p->path);
    if (p->ops)
        g_ptr_array_unref(p->ops);
    g_free(p);
}

char *
sp_plan_escape_opt(const char *value)
{
    GString *s = g_string_sized_new(strlen(value) + 8);

    for (const char *c = value; *c; c++) {
        g_string_append_c(s, *c);
        if (*c == ',')
            g_string_append_c(s, ',');
    }
    return g_string_free(s, FALSE);
}

static SpPlan *
plan_new(const char *volume, const char *path)
{
    SpPlan *p = g_new0(SpPlan, 1);

    p->volume = g_strdup(volume);
    p->path = g_strdup(path);
    p->ops = g_ptr_array_new_with_free_func((GDestroyNotify)sp_operation_free);
    return p;
}

static SpOperation *
plan_add(SpPlan *p, SpOpKind kind)
{
    SpOperation *op = g_new0(SpOperation, 1);

    op->kind = kind;
    g_ptr_array_add(p->ops, op);
    return op;
}

/* What a qemu-img operation touches: @writes, and @read (a path or NULL,
 * normalised) appended to what it reads. */
static void
sp_plan_files(SpOperation *op, const char *writes, const char *read)
{
    guint n = op->reads ? g_strv_length(op->reads) : 0;

    if (writes && !op->writes)
        op->writes = g_strdup(writes);
    if (!read)
        return;
    op->reads = g_renew(char *, op->reads, n + 2);
    op->reads[n] = sp_fs_normalize_abs(read, NULL);
    op->reads[n + 1] = NULL;
    if (!op->reads[n]) /* checked before planning: cannot happen */
        op->reads[n] = g_strdup(read);
}

static const char *
qemu_img_path(const SpPolicy *policy)
{
    return policy->qemu_img && *policy->qemu_img ? policy->qemu_img
                                                 : "/usr/bin/qemu-img";
}

static const char *
prealloc_mode(const SpVolume *vol, gboolean prealloc_metadata)
{
    if (prealloc_metadata)
        return "metadata";
    if (vol->has_allocation && vol->capacity &&
        vol->allocation >= vol->capacity)
        return "falloc";
    return NULL;
}

/* libvirt's rule for raw files: without <allocation> a volume is fully
 * allocated; an allocation larger than the capacity means all of it. */
static guint64
raw_allocation(const SpVolume *vol)
{
    return vol->has_allocation ? MIN(vol->allocation, vol->capacity)
                               : vol->capacity;
}

static char *
secret_object(void)
{
    return g_strdup_printf("secret,id=%s,file=/dev/fd/%d", SP_PLAN_SECRET_ID,
                           SP_SECRET_CHILD_FD);
}

/* What a new volume may not be: refused rather than dropped, so that
 * nothing the user asked for is silently ignored. */
static gboolean
sp_plan_check_new(const SpVolume *vol, SpFormat img, GError **error)
{
    const char *why = NULL;

    if (!sp_plan_check_qcow2_only(vol, img, error))
        return FALSE;
    if (vol->encryption.enabled && img != SP_FORMAT_QCOW2 &&
        img != SP_FORMAT_LUKS)
        why = _("element 'target/encryption': not supported for this format");
    else if (vol->backing_path && img != SP_FORMAT_QCOW2)
        why = _("element 'backingStore': only qcow2 volumes have one");
    else if (img == SP_FORMAT_ISO || img == SP_FORMAT_GPT ||
             img == SP_FORMAT_MBR || img == SP_FORMAT_UNKNOWN)
        why = _("element 'target/format': safepool cannot create such an "
                "image");
    else if (img == SP_FORMAT_LUKS && !vol->encryption.enabled)
        why = _("element 'target/encryption': format luks needs <encryption "
                "format='luks'>");
    else if (vol->backing_path && vol->backing_format == SP_FORMAT_UNKNOWN)
        why = _("element 'backingStore/format': missing");
    if (!why)
        return TRUE;
    g_set_error(error, SP_ERROR, SP_ERROR_INVALID, _("volume '%s' (%s): %s"),
                vol->name, sp_format_to_string(img), why);
    return FALSE;
}

/* `qemu-img create` of a new image of @vol at @target. */
static gboolean
sp_plan_qemu_create(SpPlan *p, const SpPolicy *policy, const SpVolume *vol,
                    const SpPlanCreateArgs *args, const char *target,
                    GError **error)
{
    SpFormat img = sp_volume_image_format(vol);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) opts = g_string_new(NULL);
    const char *pm = prealloc_mode(vol, args->prealloc_metadata);
    SpOperation *op;

    g_ptr_array_add(argv, g_strdup(qemu_img_path(policy)));
    g_ptr_array_add(argv, g_strdup("create"));
    g_ptr_array_add(argv, g_strdup("-f"));
    g_ptr_array_add(argv, g_strdup(sp_format_to_string(img)));
    if (vol->backing_path) {
        g_autofree char *backing =
            sp_fs_normalize_abs(vol->backing_path, error);

        if (!backing)
            return FALSE;
        /* The path goes through -o so its ',' are escaped; -F is the
         * explicit backing format. */
        g_ptr_array_add(argv, g_strdup("-F"));
        g_ptr_array_add(argv,
                        g_strdup(sp_format_to_string(vol->backing_format)));
        sp_plan_opt_add(opts, "backing_file", backing);
    }
    if (vol->encryption.enabled) {
        g_ptr_array_add(argv, g_strdup("--object"));
        g_ptr_array_add(argv, secret_object());
        sp_plan_opt_add_luks(opts, policy, &vol->encryption,
                             img == SP_FORMAT_QCOW2 ? "encrypt." : "");
    }
    op = plan_add(p, SP_OP_QEMU_IMG);
    op->needs_secret = vol->encryption.enabled;
    op->size = vol->capacity;
    /* qemu-img reads the backing file for its size */
    sp_plan_files(op, target, vol->backing_path);
    if (img == SP_FORMAT_QCOW2) {
        if (!sp_plan_opt_add_qcow2(opts, vol, pm, error))
            return FALSE;
        /* an empty qcow2 of this shape: the same bytes every time */
        op->reusable = !vol->backing_path && !vol->encryption.enabled && !pm &&
                       !vol->nocow;
    } else {
        if (img == SP_FORMAT_LUKS && pm)
            sp_plan_opt_add(opts, "preallocation", pm);
        /* only qcow2 has a nocow option: the executor flags the empty file */
        op->nocow = vol->nocow;
    }
    if (opts->len) {
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup(opts->str));
    }
    g_ptr_array_add(argv, g_strdup(target));
    g_ptr_array_add(argv, sp_plan_size_arg(vol->capacity));
    g_ptr_array_add(argv, NULL);
    op->argv = (char **)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
    return TRUE;
}

static gboolean
plan_create_new(SpPlan *p, const SpPolicy *policy, const SpVolume *vol,
                const SpPlanCreateArgs *args, const char *target,
                GError **error)
{
    SpFormat img = sp_volume_image_format(vol);
    SpOperation *op;

    if (!sp_plan_check_new(vol, img, error))
        return FALSE;
    if (img == SP_FORMAT_RAW) {
        op = plan_add(p, SP_OP_RAW_CREATE);
        op->size = vol->capacity;
        op->allocation = raw_allocation(vol);
        op->nocow = vol->nocow;
        return TRUE;
    }
    return sp_plan_qemu_create(p, policy, vol, args, target, error);
}

/* What cannot be cloned, refused before anything is planned. */
static gboolean
sp_plan_check_clone(const SpVolume *vol, const SpVolume *src,
                    const SpPlanCreateArgs *args, GError **error)
{
    SpFormat src_img = sp_volume_image_format(src);
    SpFormat dst_img = sp_volume_image_format(vol);

    if (src->encryption.enabled || vol->encryption.enabled) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': cloning from or to an encrypted volume is "
                      "not supported"),
                    vol->name);
        return FALSE;
    }
    if (vol->backing_path) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': element 'backingStore': not allowed when "
                      "cloning"),
                    vol->name);
        return FALSE;
    }
    if (src_img == SP_FORMAT_UNKNOWN || dst_img == SP_FORMAT_UNKNOWN ||
        dst_img == SP_FORMAT_ISO) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': cannot clone %s into %s"), vol->name,
                    sp_format_to_string(src_img), sp_format_to_string(dst_img));
        return FALSE;
    }
    if (!args->source_path) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': clone source path missing"), vol->name);
        return FALSE;
    }
    return sp_plan_check_qcow2_only(vol, dst_img, error);
}

/* A clone that grew: the converted image is resized to @capacity. */
static void
sp_plan_clone_grow(SpPlan *p, const SpPolicy *policy, SpFormat dst_img,
                   const char *target, guint64 capacity)
{
    SpOperation *op;

    if (dst_img == SP_FORMAT_RAW) {
        op = plan_add(p, SP_OP_RAW_RESIZE);
        op->size = capacity;
        return;
    }
    op = plan_add(p, SP_OP_QEMU_IMG);
    op->size = capacity;
    sp_plan_files(op, target, NULL);
    op->argv = g_new0(char *, 7);
    op->argv[0] = g_strdup(qemu_img_path(policy));
    op->argv[1] = g_strdup("resize");
    op->argv[2] = g_strdup("-f");
    op->argv[3] = g_strdup(sp_format_to_string(dst_img));
    op->argv[4] = g_strdup(target);
    op->argv[5] = sp_plan_size_arg(capacity);
}

/* `qemu-img convert` of the source into @target. */
static gboolean
sp_plan_convert(SpPlan *p, const SpPolicy *policy, const SpVolume *vol,
                const SpPlanCreateArgs *args, const char *target,
                GError **error)
{
    const SpVolume *src = args->source;
    SpFormat dst_img = sp_volume_image_format(vol);
    g_autofree char *src_path = sp_fs_normalize_abs(args->source_path, error);
    g_autoptr(GString) opts = g_string_new(NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    SpOperation *op;

    if (!src_path)
        return FALSE;
    g_ptr_array_add(argv, g_strdup(qemu_img_path(policy)));
    g_ptr_array_add(argv, g_strdup("convert"));
    g_ptr_array_add(argv, g_strdup("-f"));
    g_ptr_array_add(argv,
                    g_strdup(sp_format_to_string(sp_volume_image_format(src))));
    g_ptr_array_add(argv, g_strdup("-O"));
    g_ptr_array_add(argv, g_strdup(sp_format_to_string(dst_img)));
    op = plan_add(p, SP_OP_QEMU_IMG);
    op->size = src->capacity;
    /* the source, and the backing file of a source that is an overlay */
    sp_plan_files(op, target, src_path);
    sp_plan_files(op, NULL, src->backing_path);
    if (dst_img == SP_FORMAT_QCOW2) {
        if (!sp_plan_opt_add_qcow2(
                opts, vol, prealloc_mode(vol, args->prealloc_metadata), error))
            return FALSE;
    } else {
        op->nocow = vol->nocow;
    }
    if (opts->len) {
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup(opts->str));
    }
    g_ptr_array_add(argv, g_steal_pointer(&src_path));
    g_ptr_array_add(argv, g_strdup(target));
    g_ptr_array_add(argv, NULL);
    op->argv = (char **)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
    return TRUE;
}

static gboolean
plan_clone(SpPlan *p, const SpPolicy *policy, const SpVolume *vol,
           const SpPlanCreateArgs *args, const char *target, GError **error)
{
    const SpVolume *src = args->source;
    /* As libvirt: a clone is never smaller than its source. */
    guint64 capacity = MAX(vol->capacity, src->capacity);
    SpOperation *op;

    if (!sp_plan_check_clone(vol, src, args, error))
        return FALSE;
    if (sp_volume_image_format(src) == SP_FORMAT_RAW &&
        sp_volume_image_format(vol) == SP_FORMAT_RAW) {
        op = plan_add(p, SP_OP_RAW_CLONE);
        op->size = capacity;
        op->nocow = vol->nocow;
        op->reflink = args->reflink;
        /* As libvirt: allocated up front only when the allocation asked
         * for covers the whole source; otherwise the clone stays sparse. */
        if (!vol->has_allocation || vol->allocation >= src->capacity)
            op->allocation = capacity;
        return TRUE;
    }
    if (!sp_plan_convert(p, policy, vol, args, target, error))
        return FALSE;
    if (capacity > src->capacity)
        sp_plan_clone_grow(p, policy, sp_volume_image_format(vol), target,
                           capacity);
    return TRUE;
}

SpPlan *
sp_plan_create(const SpPolicy *policy, const SpVolume *vol,
               const SpPlanCreateArgs *args, GError **error)
{
    g_autoptr(SpPlan) p = NULL;
    g_autofree char *pool = NULL;
    g_autofree char *path = NULL;
    g_autofree char *target = NULL;
    g_autofree char *joined = NULL;

    g_return_val_if_fail(vol && vol->name && args && args->pool_path, NULL);
    pool = sp_fs_normalize_abs(args->pool_path, error);
    if (!pool)
        return NULL;
    joined = g_build_filename(pool, vol->name, NULL);
    path = sp_fs_normalize_abs(joined, error);
    if (!path)
        return NULL;
    target = sp_fs_normalize_abs(args->target_path ? args->target_path : path,
                                 error);
    if (!target)
        return NULL;
    p = plan_new(vol->name, path);
    if (args->source) {
        if (!plan_clone(p, policy, vol, args, target, error))
            return NULL;
    } else if (!plan_create_new(p, policy, vol, args, target, error)) {
        return NULL;
    }
    return g_steal_pointer(&p);
}

SpPlan *
sp_plan_resize(const SpPolicy *policy, const SpVolume *vol, const char *path,
               guint64 current, guint64 capacity, gboolean shrink,
               gboolean allocate, GError **error)
{
    SpFormat img = sp_volume_image_format(vol);
    g_autoptr(SpPlan) p = NULL;
    g_autofree char *abs = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    SpOperation *op;

    abs = sp_fs_normalize_abs(path, error);
    if (!abs)
        return NULL;
    if (capacity < current && !shrink) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': new capacity %" PRIu64
                      " is smaller than current %" PRIu64 "; pass --shrink"),
                    vol->name, capacity, current);
        return NULL;
    }
    if (img == SP_FORMAT_UNKNOWN || img == SP_FORMAT_ISO) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': cannot resize a volume of format %s"),
                    vol->name, sp_format_to_string(img));
        return NULL;
    }
    if (allocate && img != SP_FORMAT_RAW) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': allocating on resize "
                      "(VIR_STORAGE_VOL_RESIZE_ALLOCATE) is only supported "
                      "for unencrypted raw volumes, not %s"),
                    vol->name, sp_format_to_string(img));
        return NULL;
    }
    p = plan_new(vol->name, abs);
    if (img == SP_FORMAT_RAW) {
        op = plan_add(p, SP_OP_RAW_RESIZE);
        op->size = capacity;
        op->allocation = allocate ? capacity : 0;
        return g_steal_pointer(&p);
    }
    op = plan_add(p, SP_OP_QEMU_IMG);
    op->size = capacity;
    /* qemu-img opens the image with its backing file */
    sp_plan_files(op, abs, vol->backing_path);
    g_ptr_array_add(argv, g_strdup(qemu_img_path(policy)));
    g_ptr_array_add(argv, g_strdup("resize"));
    if (vol->encryption.enabled) {
        /* An encrypted image only opens with its key: --image-opts names the
         * driver explicitly (it replaces -f) and the key secret. */
        g_autofree char *file = sp_plan_escape_opt(abs);
        op->needs_secret = TRUE;
        g_ptr_array_add(argv, g_strdup("--object"));
        g_ptr_array_add(argv, secret_object());
        g_ptr_array_add(argv, g_strdup("--image-opts"));
        if (shrink)
            g_ptr_array_add(argv, g_strdup("--shrink"));
        if (img == SP_FORMAT_QCOW2)
            g_ptr_array_add(
                argv, g_strdup_printf("driver=qcow2,encrypt.key-secret=%s,file."
                                      "driver=file,file.filename=%s",
                                      SP_PLAN_SECRET_ID, file));
        else
            g_ptr_array_add(argv,
                            g_strdup_printf("driver=luks,key-secret=%s,file."
                                            "driver=file,file.filename=%s",
                                            SP_PLAN_SECRET_ID, file));
    } else {
        g_ptr_array_add(argv, g_strdup("-f"));
        g_ptr_array_add(argv, g_strdup(sp_format_to_string(img)));
        if (shrink)
            g_ptr_array_add(argv, g_strdup("--shrink"));
        g_ptr_array_add(argv, g_strdup(abs));
    }
    g_ptr_array_add(argv, sp_plan_size_arg(capacity));
    g_ptr_array_add(argv, NULL);
    op->argv = (char **)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
    return g_steal_pointer(&p);
}
