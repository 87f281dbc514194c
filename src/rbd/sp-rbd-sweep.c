/* The sweeper of an RBD pool (pool start and refresh): hidden temporaries
 * whose maker's lock can be taken are dead and go; an old content that an
 * interrupted upload left hidden while its public name is free goes back
 * under that name. A live temporary's lock is held (and renewed) by its
 * maker, so the sweeper never takes one. */
#include "rbd/sp-rbd-private.h"

#include <errno.h>

/* @tmp held @public's content when the maker died between its two
 * renames: the public name is empty, so the old content goes back (the
 * caller holds @public's lock: @tmp carries its hash). */
static gboolean
restore(SpRbdPool *pool, const char *tmp, const char *public, GError **error)
{
    g_auto(SpRbdImage) probe = NULL;
    g_auto(SpRbdImage) img = NULL;
    g_autofree char *want = sp_rbd_tmp_hash(tmp);
    g_autofree char *have = sp_rbd_name_hash(public);
    int rc;

    if (!sp_rbd_check_name(public, NULL) || g_strcmp0(want, have) != 0)
        return FALSE;
    /* the public name taken again: this old content is stale; a probe
     * that fails otherwise keeps it (an error, never a removal) */
    rc = rbd_open_read_only(pool->io, public, &probe, NULL);
    if (rc == 0)
        return FALSE;
    probe = NULL;
    if (rc != -ENOENT)
        return sp_rbd_fail(pool, error, rc, _("volume '%s'"), public);
    if (!sp_rbd_rename(pool, NULL, tmp, public, public, _("restoring it"),
                       error))
        return FALSE;
    if (sp_rbd_open(pool, public, TRUE, &img, NULL))
        (void)rbd_metadata_remove(img, SP_RBD_KEY_TMP_OF);
    g_message("rbd pool '%s': volume '%s' restored from an interrupted upload",
              pool->name, public);
    return TRUE;
}

gboolean
sp_rbd_pool_sweep(SpRbdPool *pool, guint *n, GError **error)
{
    g_autoptr(GPtrArray) names = sp_rbd_image_names(pool, error);

    *n = 0;
    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autoptr(SpRbdLock) lock = NULL;
        g_autoptr(GError) local = NULL;
        g_autofree char *public = NULL;
        g_autofree char *hash = sp_rbd_tmp_hash(name);

        if (!g_str_has_prefix(name, SP_RBD_TMP_PREFIX))
            continue;
        /* the lock of the name the temporary belongs to (one without a
         * hash is nobody's: its own name stands in); busy: its maker is
         * alive (or died less than a lease ago) */
        if (!hash)
            hash = sp_rbd_name_hash(name);
        if (!(lock = sp_rbd_lock_hash(pool, hash, name, 0, &local))) {
            if (!g_error_matches(local, SP_ERROR, SP_ERROR_LOCKED))
                g_warning("%s", local->message);
            continue;
        }
        {
            g_auto(SpRbdImage) img = NULL;

            if (!sp_rbd_open(pool, name, FALSE, &img, &local)) {
                if (!g_error_matches(local, SP_ERROR, SP_ERROR_NOT_FOUND))
                    g_warning("%s", local->message);
                continue;
            }
            public = sp_rbd_meta_get(pool, img, name, SP_RBD_KEY_TMP_OF, NULL);
        }
        if (public && restore(pool, name, public, &local)) {
            (*n)++;
            continue;
        }
        if (local) { /* the only copy of a volume: never removed */
            g_warning("rbd pool '%s': '%s' kept: %s", pool->name, name,
                      local->message);
            continue;
        }
        /* a dead maker's temporary: its snapshots were never anyone's */
        if (!sp_rbd_remove_image(pool, name, TRUE, &local)) {
            g_warning("rbd pool '%s': stale '%s' kept: %s", pool->name, name,
                      local->message);
            continue;
        }
        (*n)++;
    }
    return TRUE;
}
