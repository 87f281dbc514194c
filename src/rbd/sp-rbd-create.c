/* Create and clone: a raw image is built under a hidden name whose lock
 * its maker holds, gets its identity in metadata, and is published with
 * rbd_rename (which refuses an existing name). A clone is copy-on-write
 * from a protected snapshot safepool makes for it alone. */
#include "rbd/sp-rbd-private.h"

#include <errno.h>
#include <string.h>

/* What a volume of an RBD pool may ask for: raw, a capacity within the
 * policy, and nothing of file volumes (LUKS, backing stores, qcow2
 * options) that an RBD image cannot honour. Permissions and labels are
 * left aside, as libvirt's own rbd backend does: an image has none. */
static gboolean
check_volume(const SpVolume *vol, const SpPolicy *policy, GError **error)
{
    if (!sp_rbd_check_name(vol->name, error))
        return FALSE;
    if (vol->format != SP_FORMAT_RAW) {
        sp_set_error_element(error, SP_ERROR_INVALID, "target/format",
                             _("volume '%s': format '%s': RBD pools hold "
                               "raw images only"),
                             vol->name, sp_format_to_string(vol->format));
        return FALSE;
    }
    if (vol->encryption.enabled) {
        sp_set_error_element(error, SP_ERROR_INVALID, "target/encryption",
                             _("volume '%s': encryption is not supported in "
                               "RBD pools"),
                             vol->name);
        return FALSE;
    }
    if (vol->backing_path) {
        sp_set_error_element(error, SP_ERROR_INVALID, "backingStore",
                             _("volume '%s': RBD images have no backing "
                               "store; clone a volume instead"),
                             vol->name);
        return FALSE;
    }
    if (vol->compat || vol->lazy_refcounts || vol->extended_l2 ||
        vol->cluster_size || vol->nocow) {
        sp_set_error_element(error, SP_ERROR_INVALID, "target",
                             _("volume '%s': qcow2 and file options do not "
                               "apply to RBD images"),
                             vol->name);
        return FALSE;
    }
    if (!vol->has_capacity || vol->capacity == 0) {
        sp_set_error_element(error, SP_ERROR_INVALID, "capacity",
                             _("volume '%s': a capacity above 0 is "
                               "required"),
                             vol->name);
        return FALSE;
    }
    if (vol->capacity > policy->max_capacity) {
        sp_set_error_element(
            error, SP_ERROR_INVALID, "capacity",
            _("volume '%s': %" G_GUINT64_FORMAT " bytes is "
              "more than the policy's max_capacity of %" G_GUINT64_FORMAT
              " bytes"),
            vol->name, vol->capacity, policy->max_capacity);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_features(SpRbdPool *pool, guint64 f, gboolean clone, GError **error)
{
    const SpPolicy *p = pool->policy;

    if (f & ~p->rbd_features_allowed) {
        g_autofree char *names =
            sp_rbd_features_to_string(f & ~p->rbd_features_allowed);

        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("RBD image features %s are not allowed by the policy"),
                    names);
        return FALSE;
    }
    if (clone && !(f & SP_RBD_FEATURE_LAYERING)) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("a clone needs the RBD image feature layering"));
        return FALSE;
    }
    return TRUE;
}

static rbd_image_options_t
image_options(SpRbdPool *pool, guint64 features)
{
    rbd_image_options_t opts;

    rbd_image_options_create(&opts);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES, features);
    if (pool->policy->rbd_data_pool)
        rbd_image_options_set_string(opts, RBD_IMAGE_OPTION_DATA_POOL,
                                     pool->policy->rbd_data_pool);
    return opts;
}

/* The identity of @vol on the image @tmp: format and creating XML. */
static gboolean
record_identity(SpRbdPool *pool, const char *tmp, const SpVolume *vol,
                GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s", pool->name, vol->name);
    g_autofree char *xml = NULL;
    g_autoptr(SpVolume) rec = sp_volume_copy(vol);

    /* the allocation asked for is not a property of an RBD image */
    rec->has_allocation = FALSE;
    xml = sp_volume_to_xml_type(rec, path, "network");
    return sp_rbd_meta_set(pool, tmp, vol->name, TRUE,
                           (const char *const[]){SP_RBD_KEY_FORMAT, "raw",
                                                 SP_RBD_KEY_XML, xml, NULL},
                           error);
}

/* Snapshot + protect the clone source, clone it into @tmp. On success
 * the snapshot's name is in *snap (it belongs to the clone). */
static gboolean
clone_into(SpRbdPool *pool, const char *from, const char *tmp, guint64 features,
           guint64 want, char **snap, GError **error)
{
    g_auto(SpRbdImage) src = NULL;
    g_autofree char *uuid = g_uuid_string_random();
    g_autofree char *name = g_strconcat(SP_RBD_CLONE_SNAP_PREFIX, uuid, NULL);
    g_autofree char *fmt = NULL;
    rbd_image_options_t opts;
    uint64_t size = 0;
    int rc;

    if (!sp_rbd_open(pool, from, TRUE, &src, error))
        return FALSE;
    if (!(fmt = sp_rbd_meta_get(pool, src, from, SP_RBD_KEY_FORMAT, error))) {
        if (error && !*error)
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("clone source '%s': no recorded format (not created "
                          "by safepool; see 'safepool vol-adopt')"),
                        from);
        return FALSE;
    }
    if ((rc = rbd_get_size(src, &size)) < 0)
        return sp_rbd_fail(pool, error, rc, _("clone source '%s'"), from);
    if (want < size) {
        sp_set_error_element(
            error, SP_ERROR_INVALID, "capacity",
            _("clone of '%s': capacity %" G_GUINT64_FORMAT
              " is smaller than the source's %" G_GUINT64_FORMAT " bytes"),
            from, want, size);
        return FALSE;
    }
    /* A snapshot of its own for every clone: whatever was written to the
     * source since an earlier clone, nothing is diffed or compared. */
    if ((rc = rbd_snap_create(src, name)) < 0)
        return sp_rbd_fail(pool, error, rc, _("clone source '%s': snapshot"),
                           from);
    if ((rc = rbd_snap_protect(src, name)) < 0) {
        rbd_snap_remove(src, name);
        return sp_rbd_fail(pool, error, rc,
                           _("clone source '%s': protecting the snapshot"),
                           from);
    }
    opts = image_options(pool, features);
    rc = rbd_clone3(pool->io, from, name, pool->io, tmp, opts);
    rbd_image_options_destroy(opts);
    if (rc < 0) {
        rbd_snap_unprotect(src, name);
        rbd_snap_remove(src, name);
        return sp_rbd_fail(pool, error, rc, _("clone of '%s'"), from);
    }
    *snap = g_steal_pointer(&name);
    return TRUE;
}

/* The clone's own tail (a capacity above the source's), or a copy of
 * everything (flatten). */
static gboolean
finish_clone(SpRbdPool *pool, const char *tmp, const SpVolume *vol,
             gboolean flatten, GError **error)
{
    g_auto(SpRbdImage) img = NULL;
    uint64_t size = 0;
    int rc;

    if (!sp_rbd_open(pool, tmp, TRUE, &img, error))
        return FALSE;
    if ((rc = rbd_get_size(img, &size)) < 0 ||
        (vol->capacity > size &&
         (rc = rbd_resize2(img, vol->capacity, false, sp_rbd_no_progress,
                           NULL)) < 0))
        return sp_rbd_fail(pool, error, rc, _("clone '%s': resize"), vol->name);
    if (flatten &&
        (rc = rbd_flatten_with_progress(img, sp_rbd_no_progress, NULL)) < 0)
        return sp_rbd_fail(pool, error, rc, _("clone '%s': flatten"),
                           vol->name);
    return TRUE;
}

gboolean
sp_rbd_create(SpRbdPool *pool, const SpVolume *vol, const SpRbdCreateArgs *args,
              GError **error)
{
    const SpPolicy *p = pool->policy;
    guint64 features =
        args && args->features ? args->features : p->rbd_features;
    const char *from = args ? args->from : NULL;
    gboolean flatten = (args && args->flatten) || p->rbd_flatten_clones;
    g_autoptr(SpRbdLock) lock = NULL;
    g_autoptr(SpRbdLock) from_lock = NULL;
    g_autofree char *tmp =
        sp_rbd_tmp_name(from ? "clone" : "create", vol->name);
    g_autofree char *snap = NULL;
    g_autoptr(GError) local = NULL;
    gboolean made = FALSE;
    int rc;

    if (!check_volume(vol, p, error) ||
        !check_features(pool, features, from != NULL, error) ||
        (from && !sp_rbd_check_name(from, error)))
        return FALSE;
    if (from && g_str_equal(from, vol->name)) {
        g_set_error(error, SP_ERROR, SP_ERROR_EXISTS,
                    _("volume '%s' exists already"), vol->name);
        return FALSE;
    }
    /* the public name (and a clone's source) for the whole operation: the
     * hidden name carries the public one's hash, so the sweeper leaves it
     * alone while this lock is held */
    if (from ? !sp_rbd_lock_pair(pool, vol->name, from,
                                 sp_rbd_lock_wait_ms(pool), &lock, &from_lock,
                                 error)
             : !(lock = sp_rbd_lock(pool, vol->name, sp_rbd_lock_wait_ms(pool),
                                    error)))
        return FALSE;
    if (from) {
        made = clone_into(pool, from, tmp, features, vol->capacity, &snap,
                          &local) &&
               finish_clone(pool, tmp, vol, flatten, &local);
        made = made || snap;
    } else {
        rbd_image_options_t opts = image_options(pool, features);

        rc = rbd_create4(pool->io, tmp, vol->capacity, opts);
        rbd_image_options_destroy(opts);
        if (rc < 0)
            sp_rbd_fail(pool, &local, rc, _("volume '%s': create"), vol->name);
        else
            made = TRUE;
    }
    if (!local && record_identity(pool, tmp, vol, &local) &&
        sp_rbd_rename(pool, lock, tmp, vol->name, vol->name, _("publish"),
                      &local))
        made = FALSE; /* published: nothing to take back */
    if (made) {
        g_autoptr(GError) cleanup = NULL;

        /* the clone's snapshot goes with it (it has no other use) */
        if (!sp_rbd_remove_image(pool, tmp, FALSE, &cleanup))
            g_warning("%s (left for the sweeper)", cleanup->message);
    }
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (flatten && snap)
        (void)sp_rbd_release_clone_snap(pool, from, snap, NULL);
    return TRUE;
}
