/* Delete, resize, wipe, adopt and the sweeper of an RBD pool: each takes
 * the name's lock, and none touches an image that is open somewhere when
 * that would pull data from under a guest. */
#include "rbd/sp-rbd-private.h"

#include <errno.h>
#include <string.h>

static gboolean
is_ours(const char *snap)
{
    return g_str_has_prefix(snap, SP_RBD_CLONE_SNAP_PREFIX);
}

gboolean
sp_rbd_release_clone_snap(SpRbdPool *pool, const char *name, const char *snap,
                          GError **error)
{
    g_auto(SpRbdImage) at_snap = NULL;
    g_auto(SpRbdImage) img = NULL;
    g_autoptr(GPtrArray) children = NULL;
    int rc;

    rc = rbd_open_read_only(pool->io, name, &at_snap, snap);
    if (rc == -ENOENT) {
        at_snap = NULL;
        return TRUE;
    }
    if (rc < 0) {
        at_snap = NULL;
        return sp_rbd_fail(pool, error, rc, _("volume '%s@%s'"), name, snap);
    }
    if (!(children = sp_rbd_children(pool, at_snap, name, error)))
        return FALSE;
    if (children->len > 0)
        return TRUE;
    if (!sp_rbd_open(pool, name, TRUE, &img, error))
        return FALSE;
    rc = rbd_snap_unprotect(img, snap);
    if (rc < 0 && rc != -EINVAL && rc != -ENOENT)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': unprotect '%s'"),
                           name, snap);
    rc = rbd_snap_remove(img, snap);
    if (rc < 0 && rc != -ENOENT)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': remove '%s'"), name,
                           snap);
    return TRUE;
}

/* Remove the snapshots of @img: safepool's own always (the caller made
 * sure no clone uses them), others only with @other_snaps. */
static gboolean
remove_snaps(SpRbdPool *pool, SpRbdImage img, const char *name,
             gboolean other_snaps, GError **error)
{
    int max = 16, n;
    g_autofree rbd_snap_info_t *snaps = NULL;
    g_autoptr(GString) foreign = g_string_new(NULL);

    for (;;) {
        snaps = g_renew(rbd_snap_info_t, snaps, max);
        n = rbd_snap_list(img, snaps, &max);
        if (n != -ERANGE)
            break;
    }
    if (n < 0)
        return sp_rbd_fail(pool, error, n, _("volume '%s': snapshots"), name);
    for (int i = 0; i < n; i++) {
        if (!is_ours(snaps[i].name))
            g_string_append_printf(foreign, "%s%s", foreign->len ? ", " : "",
                                   snaps[i].name);
    }
    if (foreign->len && !other_snaps) {
        rbd_snap_list_end(snaps);
        g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                    _("volume '%s' has snapshots safepool did not make (%s): "
                      "delete them too with --delete-snapshots"),
                    name, foreign->str);
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        int rc = rbd_snap_unprotect(img, snaps[i].name);

        if (rc < 0 && rc != -EINVAL) {
            sp_rbd_fail(pool, error, rc, _("volume '%s': unprotect '%s'"), name,
                        snaps[i].name);
            rbd_snap_list_end(snaps);
            return FALSE;
        }
        if ((rc = rbd_snap_remove(img, snaps[i].name)) < 0) {
            sp_rbd_fail(pool, error, rc, _("volume '%s': remove '%s'"), name,
                        snaps[i].name);
            rbd_snap_list_end(snaps);
            return FALSE;
        }
    }
    rbd_snap_list_end(snaps);
    return TRUE;
}

gboolean
sp_rbd_rename(SpRbdPool *pool, SpRbdLock *lock, const char *from,
              const char *to, const char *vol, const char *doing,
              GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!lock || sp_rbd_lock_check(lock, &local)) {
        int rc = rbd_rename(pool->io, from, to);

        if (rc == 0)
            return TRUE;
        if (rc == -EEXIST)
            g_set_error(&local, SP_ERROR, SP_ERROR_EXISTS,
                        _("volume '%s' exists already"), vol);
        else
            sp_rbd_fail(pool, &local, rc, _("volume '%s': %s"), vol, doing);
    }
    if (!error) {
        g_warning("%s (the image stays '%s', not '%s')", local->message, from,
                  to);
        return FALSE;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

gboolean
sp_rbd_remove_image(SpRbdPool *pool, const char *name, gboolean other_snaps,
                    GError **error)
{
    g_auto(SpRbdImage) img = NULL;
    rbd_linked_image_spec_t parent;
    rbd_snap_spec_t psnap;
    g_autofree char *pimage = NULL;
    g_autofree char *pname = NULL;
    gboolean local_parent = FALSE;
    int rc;

    if (!sp_rbd_open(pool, name, TRUE, &img, error) ||
        !remove_snaps(pool, img, name, other_snaps, error))
        return FALSE;
    if (rbd_get_parent(img, &parent, &psnap) == 0) {
        local_parent =
            g_str_equal(parent.pool_name, pool->rados_pool) &&
            g_str_equal(parent.pool_namespace, pool->ns ? pool->ns : "");
        pimage = g_strdup(parent.image_name);
        pname = g_strdup(psnap.name);
        rbd_linked_image_spec_cleanup(&parent);
        rbd_snap_spec_cleanup(&psnap);
    }
    g_clear_pointer(&img, rbd_close);
    rc = rbd_remove_with_progress(pool->io, name, sp_rbd_no_progress, NULL);
    if (rc < 0 && rc != -ENOENT)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': remove"), name);
    if (local_parent && is_ours(pname)) {
        g_autoptr(GError) local = NULL;

        if (!sp_rbd_release_clone_snap(pool, pimage, pname, &local))
            g_warning("%s", local->message);
    }
    return TRUE;
}

/* Flatten every clone of @name that lies in this pool (they stop needing
 * it); a clone elsewhere is refused: safepool stays in its namespace. */
static gboolean
flatten_children(SpRbdPool *pool, GPtrArray *children, const char *name,
                 GError **error)
{
    g_autofree char *prefix = g_strconcat(pool->name, "/", NULL);

    for (guint i = 0; i < children->len; i++) {
        const char *c = g_ptr_array_index(children, i);
        const char *child = c + strlen(prefix);
        g_autoptr(SpRbdLock) lock = NULL;
        g_auto(SpRbdImage) img = NULL;
        int rc;

        if (!g_str_has_prefix(c, prefix) || strchr(child, '/')) {
            g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                        _("volume '%s' has a clone outside rbd pool '%s' (%s): "
                          "not flattened"),
                        name, pool->name, c);
            return FALSE;
        }
        if (!(lock =
                  sp_rbd_lock(pool, child, sp_rbd_lock_wait_ms(pool), error)) ||
            !sp_rbd_open(pool, child, TRUE, &img, error))
            return FALSE;
        if ((rc = rbd_flatten_with_progress(img, sp_rbd_no_progress, NULL)) < 0)
            return sp_rbd_fail(pool, error, rc, _("clone '%s': flatten"),
                               child);
    }
    return TRUE;
}

gboolean
sp_rbd_delete(SpRbdPool *pool, const char *name, SpRbdDeleteFlags flags,
              GError **error)
{
    g_autoptr(SpRbdLock) lock = NULL;
    g_autoptr(GPtrArray) children = NULL;
    g_autofree char *tmp = sp_rbd_tmp_name("delete", name);
    g_auto(SpRbdImage) img = NULL;

    if (!sp_rbd_check_name(name, error) ||
        !(lock = sp_rbd_lock(pool, name, sp_rbd_lock_wait_ms(pool), error)) ||
        !sp_rbd_open(pool, name, FALSE, &img, error) ||
        !sp_rbd_check_unwatched(pool, img, name, _("delete of"), error) ||
        !(children = sp_rbd_children(pool, img, name, error)))
        return FALSE;
    if (children->len > 0) {
        g_autofree char *list = NULL;

        g_ptr_array_add(children, NULL);
        list = g_strjoinv(", ", (char **)children->pdata);
        g_ptr_array_remove_index(children, children->len - 1);
        if (!(flags & SP_RBD_DELETE_FLATTEN_CHILDREN)) {
            g_set_error(
                error, SP_ERROR, SP_ERROR_IN_USE,
                _("delete of volume '%s' refused: it has clones (%s); "
                  "flatten them first (safepool vol-delete --flatten-clones, "
                  "or virsh vol-delete --delete-snapshots)"),
                name, list);
            return FALSE;
        }
        if (!flatten_children(pool, children, name, error))
            return FALSE;
    }
    g_clear_pointer(&img, rbd_close);
    /* Out of sight first, in one rename: a crash while the objects go
     * leaves a hidden name for the sweeper, never half a volume. */
    if (!sp_rbd_rename(pool, lock, name, tmp, name, _("delete"), error))
        return FALSE;
    if (!sp_rbd_remove_image(pool, tmp, !!(flags & SP_RBD_DELETE_SNAPSHOTS),
                             error)) {
        /* put it back: nothing was lost yet */
        (void)sp_rbd_rename(pool, NULL, tmp, name, name,
                            _("putting it back after a failed delete"), NULL);
        return FALSE;
    }
    return TRUE;
}

gboolean
sp_rbd_resize(SpRbdPool *pool, const char *name, guint64 capacity,
              gboolean shrink, GError **error)
{
    g_autoptr(SpRbdLock) lock = NULL;
    g_auto(SpRbdImage) img = NULL;
    uint64_t size = 0;
    int rc;

    if (!sp_rbd_check_name(name, error))
        return FALSE;
    if (capacity == 0 || capacity > pool->policy->max_capacity) {
        sp_set_error_element(
            error, SP_ERROR_INVALID, "capacity",
            _("volume '%s': capacity %" G_GUINT64_FORMAT
              " is 0 or above the policy's max_capacity of %" G_GUINT64_FORMAT
              " bytes"),
            name, capacity, pool->policy->max_capacity);
        return FALSE;
    }
    if (!(lock = sp_rbd_lock(pool, name, sp_rbd_lock_wait_ms(pool), error)) ||
        !sp_rbd_open(pool, name, TRUE, &img, error))
        return FALSE;
    if ((rc = rbd_get_size(img, &size)) < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s'"), name);
    if (capacity < size) {
        if (!shrink) {
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume '%s': %" G_GUINT64_FORMAT " bytes is smaller "
                          "than its %" G_GUINT64_FORMAT " bytes; shrinking "
                          "needs --shrink (data past the end is lost)"),
                        name, capacity, size);
            return FALSE;
        }
        /* a guest would lose the end of its disk while running */
        if (!sp_rbd_check_unwatched(pool, img, name, _("shrink of"), error))
            return FALSE;
    }
    /* never a NULL progress callback: librbd calls it on shrink */
    if ((rc = rbd_resize2(img, capacity, capacity < size, sp_rbd_no_progress,
                          NULL)) < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': resize"), name);
    return TRUE;
}

gboolean
sp_rbd_wipe(SpRbdPool *pool, const char *name, GError **error)
{
    /* 1 GiB per call: write_zeroes takes a size_t and returns a count */
    const guint64 step = G_GUINT64_CONSTANT(1) << 30;
    g_autoptr(SpRbdLock) lock = NULL;
    g_auto(SpRbdImage) img = NULL;
    uint64_t size = 0;
    int rc;

    if (!sp_rbd_check_name(name, error) ||
        !(lock = sp_rbd_lock(pool, name, sp_rbd_lock_wait_ms(pool), error)) ||
        !sp_rbd_open(pool, name, TRUE, &img, error) ||
        !sp_rbd_check_unwatched(pool, img, name, _("wipe of"), error))
        return FALSE;
    if ((rc = rbd_get_size(img, &size)) < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s'"), name);
    for (guint64 off = 0; off < size; off += step) {
        gsize len = (gsize)MIN(step, size - off);
        ssize_t n = rbd_write_zeroes(img, off, len, 0, 0);

        if (n < 0)
            return sp_rbd_fail(pool, error, (int)n, _("volume '%s': wipe"),
                               name);
        if (!sp_rbd_lock_check(lock, error))
            return FALSE;
    }
    if ((rc = rbd_flush(img)) < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': wipe"), name);
    return TRUE;
}
