/* The site policy applied to a parsed volume: lexical checks only (nothing
 * is opened). Every problem is reported, so `validate --json` can list all. */
#include "conf/sp-volume.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/sp-label-syntax.h"
#include "conf/sp-volume-private.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"
#include "util/sp-i18n.h"

typedef struct {
    GPtrArray *problems;
    GError *first;
} Report;

static void G_GNUC_PRINTF(3, 4)
    report(Report *r, const char *element, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    char *message;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    message = g_strdup_printf(_("volume XML element '%s': %s"), element, why);
    if (!r->first) {
        r->first = g_error_new_literal(SP_ERROR, SP_ERROR_INVALID, message);
        sp_error_set_element(r->first, element);
    }
    if (r->problems) {
        SpProblem *p = g_new0(SpProblem, 1);
        p->code = SP_ERROR_INVALID;
        p->element = g_strdup(element);
        p->message = message;
        g_ptr_array_add(r->problems, p);
    } else {
        g_free(message);
    }
}

static gboolean
id_allowed(const GArray *ids, gint64 id)
{
    for (guint i = 0; ids && i < ids->len; i++) {
        if ((gint64)g_array_index(ids, guint32, i) == id)
            return TRUE;
    }
    return FALSE;
}

/* Cipher and ivgen names end up inside qemu-img's -o option string. */
static gboolean
is_token(const char *s)
{
    if (!s || !*s)
        return FALSE;
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '-' && *s != '_')
            return FALSE;
    }
    return TRUE;
}

static void
check_encryption(const SpVolume *v, Report *r)
{
    const SpEncryption *e = &v->encryption;

    if (!e->enabled)
        return;
    if (g_strcmp0(e->format, "qcow") == 0 ||
        g_strcmp0(e->format, "default") == 0) {
        report(r, SP_EL_ENCRYPTION,
               _("format '%s': qcow encryption is broken and not supported; "
                 "use 'luks'"),
               e->format);
    } else if (g_strcmp0(e->format, "luks") != 0) {
        report(r, SP_EL_ENCRYPTION,
               _("format '%s' is not supported; use 'luks'"), e->format);
    }
    if (v->format != SP_FORMAT_RAW && v->format != SP_FORMAT_QCOW2)
        report(r, SP_EL_ENCRYPTION,
               _("only raw and qcow2 volumes can be encrypted, not '%s'"),
               sp_format_to_string(v->format));
    if (e->n_secrets != 1)
        report(r, SP_EL_SECRET,
               _("exactly one passphrase secret is required, %u given"),
               e->n_secrets);
    if (e->cipher_name && (!is_token(e->cipher_name) ||
                           (e->cipher_mode && !is_token(e->cipher_mode)) ||
                           (e->cipher_hash && !is_token(e->cipher_hash))))
        report(r, SP_EL_CIPHER,
               _("cipher name, mode and hash must be letters, digits, '-' "
                 "or '_'"));
    if (e->cipher_name && (e->cipher_size != 128 && e->cipher_size != 192 &&
                           e->cipher_size != 256))
        report(r, SP_EL_CIPHER, _("size %u is not 128, 192 or 256"),
               e->cipher_size);
    if (e->ivgen_name && (!is_token(e->ivgen_name) ||
                          (e->ivgen_hash && !is_token(e->ivgen_hash))))
        report(r, SP_EL_IVGEN,
               _("ivgen name and hash must be letters, digits, '-' or '_'"));
}

static void
check_qcow2_options(const SpVolume *v, const SpPolicy *policy, Report *r)
{
    gboolean qcow2 = v->format == SP_FORMAT_QCOW2;

    if (v->compat && !g_str_equal(v->compat, "0.10") &&
        !g_str_equal(v->compat, "1.1"))
        report(r, SP_EL_COMPAT, _("'%s' is not '0.10' or '1.1'"), v->compat);
    else if (v->compat && !qcow2)
        report(r, SP_EL_COMPAT, _("only qcow2 volumes have a compat level"));

    /* Without <compat>, libvirt (and the planner) use 1.1 for features. */
    if (v->lazy_refcounts) {
        if (!qcow2)
            report(r, SP_EL_LAZY, _("only qcow2 volumes have this feature"));
        else if (g_strcmp0(v->compat, "0.10") == 0)
            report(r, SP_EL_LAZY, _("needs compat 1.1, not 0.10"));
    }
    if (v->extended_l2) {
        if (!policy->allow_extended_l2)
            report(r, SP_EL_EXTL2, _("not allowed by the policy"));
        else if (!qcow2)
            report(r, SP_EL_EXTL2, _("only qcow2 volumes have this feature"));
        else if (g_strcmp0(v->compat, "0.10") == 0)
            report(r, SP_EL_EXTL2, _("needs compat 1.1, not 0.10"));
        else if (v->cluster_size && v->cluster_size < 16384)
            report(r, SP_EL_EXTL2,
                   _("needs a cluster size of at least 16384 bytes"));
    }
    if (v->cluster_size) {
        guint64 c = v->cluster_size;
        if (!qcow2)
            report(r, SP_EL_CLUSTER,
                   _("only qcow2 volumes have a cluster size"));
        else if ((c & (c - 1)) != 0 || c < 512 || c > 2 * 1024 * 1024)
            report(r, SP_EL_CLUSTER,
                   _("%" PRIu64 " bytes is not a power of two "
                     "between 512 and 2097152"),
                   c);
    }
    if (v->nocow && v->format != SP_FORMAT_RAW && !qcow2)
        report(r, SP_EL_NOCOW, _("only raw and qcow2 volumes support nocow"));
}

static void
check_backing(const SpVolume *v, const SpPolicy *policy, const char *pool_path,
              Report *r)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *norm = NULL;
    g_autofree char *pool = NULL;
    gboolean inside = FALSE;

    if (!v->backing_path) {
        if (v->backing_format != SP_FORMAT_UNKNOWN)
            report(r, SP_EL_BACKING_FORMAT, _("given without a path"));
        return;
    }
    if (v->format != SP_FORMAT_QCOW2)
        report(r, SP_EL_BACKING_PATH,
               _("backing files are only supported for qcow2 volumes, not "
                 "'%s'"),
               sp_format_to_string(v->format));
    if (v->backing_format == SP_FORMAT_UNKNOWN)
        report(r, SP_EL_BACKING_FORMAT,
               _("required with a backing store (nothing is probed)"));
    else if (!(policy->allowed_formats & SP_FORMAT_BIT(v->backing_format)))
        report(r, SP_EL_BACKING_FORMAT,
               _("format '%s' is not allowed by the policy"),
               sp_format_to_string(v->backing_format));

    if (!g_path_is_absolute(v->backing_path)) {
        g_autofree char *shown = g_strescape(v->backing_path, NULL);
        report(r, SP_EL_BACKING_PATH, _("'%s' is not an absolute path"), shown);
        return;
    }
    norm = sp_fs_normalize_abs(v->backing_path, &local);
    if (!norm) {
        report(r, SP_EL_BACKING_PATH, "%s",
               local ? local->message : _("not a clean absolute path"));
        return;
    }
    if (pool_path) {
        g_autoptr(GError) perr = NULL;
        pool = sp_fs_normalize_abs(pool_path, &perr);
        if (pool) {
            g_autofree char *rel = sp_fs_relative_to(pool, norm);
            inside = rel != NULL;
        }
    }
    for (guint i = 0;
         !inside && policy->backing_roots && policy->backing_roots[i]; i++) {
        g_autofree char *rel =
            sp_fs_relative_to(policy->backing_roots[i], norm);
        inside = rel != NULL;
    }
    if (!inside) {
        g_autofree char *shown = g_strescape(v->backing_path, NULL);
        report(r, SP_EL_BACKING_PATH,
               _("'%s' is neither inside the pool nor below a backing root "
                 "of the policy"),
               shown);
    }
}

gboolean
sp_volume_check_policy(const SpVolume *v, const SpPolicy *policy,
                       const char *pool_path, GPtrArray *problems,
                       GError **error)
{
    Report r = {problems, NULL};
    const char *why = sp_volume_name_problem(v->name);

    if (why) {
        g_autofree char *shown = sp_volume_name_for_message(v->name);
        report(&r, SP_EL_NAME, _("volume name '%s': %s"), shown, why);
    }

    if (v->format == SP_FORMAT_UNKNOWN ||
        !(policy->allowed_formats & SP_FORMAT_BIT(v->format)))
        report(&r, SP_EL_FORMAT, _("format '%s' is not allowed by the policy"),
               sp_format_to_string(v->format));

    if (!v->has_capacity)
        report(&r, SP_EL_CAPACITY, _("a capacity is required"));
    else if (v->capacity == 0)
        report(&r, SP_EL_CAPACITY, _("must be greater than 0"));
    else if (v->capacity > policy->max_capacity)
        report(&r, SP_EL_CAPACITY,
               _("%" PRIu64 " bytes is more than the policy's "
                 "max_capacity of %" PRIu64 " bytes"),
               v->capacity, policy->max_capacity);
    /* An allocation above the capacity is accepted, as libvirt does: it
     * means fully allocated. A volume's allocation counts the blocks it
     * uses, which for a fully allocated file exceeds its size (ext4's
     * indirect blocks, a size that is not a multiple of the block), and
     * clients (virt-clone) send it back in the clone's XML. */

    if (v->has_mode) {
        if (v->mode & (S_ISUID | S_ISGID | S_ISVTX))
            report(&r, SP_EL_MODE,
                   _("%04o: setuid, setgid and sticky bits are not allowed"),
                   v->mode);
        if (v->mode & S_IWOTH)
            report(&r, SP_EL_MODE, _("%04o: world-writable is not allowed"),
                   v->mode);
    }
    if (v->owner != -1 && !id_allowed(policy->allowed_owners, v->owner))
        report(&r, SP_EL_OWNER, _("uid %" PRId64 " is not an allowed owner"),
               v->owner);
    if (v->group != -1 && !id_allowed(policy->allowed_groups, v->group))
        report(&r, SP_EL_GROUP, _("gid %" PRId64 " is not an allowed group"),
               v->group);
    if (v->label && !sp_label_is_valid(v->label)) {
        g_autofree char *shown = g_strescape(v->label, NULL);
        report(&r, SP_EL_LABEL, _("'%s' is not a valid SELinux context"),
               shown);
    }

    check_encryption(v, &r);
    check_qcow2_options(v, policy, &r);
    check_backing(v, policy, pool_path, &r);

    if (r.first) {
        g_propagate_error(error, r.first);
        return FALSE;
    }
    return TRUE;
}
