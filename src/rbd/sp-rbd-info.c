/* What an RBD pool holds: each image's recorded identity (metadata, never
 * probed), its size, its real allocation, its parent, its watchers and
 * its clones. Listing reads several images at a time. */
#include "rbd/sp-rbd-private.h"

#include <errno.h>
#include <string.h>

void
sp_rbd_vol_info_free(SpRbdVolInfo *i)
{
    if (!i)
        return;
    g_free(i->name);
    g_free(i->parent);
    g_free(i);
}

static int
count_extent(uint64_t off, size_t len, int exists, void *arg)
{
    if (exists)
        *(guint64 *)arg += len;
    return 0;
}

/* Bytes the image itself holds (a clone's parent not counted): whole
 * objects from the object map when fast-diff is valid, as libvirt does,
 * else exact extents. */
static int
allocation_of(SpRbdImage img, guint64 size, guint64 features, guint64 *out)
{
    uint64_t flags = 0;
    gboolean fast;

    *out = 0;
    if (rbd_get_flags(img, &flags) < 0)
        flags = RBD_FLAG_FAST_DIFF_INVALID;
    fast = (features & RBD_FEATURE_FAST_DIFF) &&
           !(flags & RBD_FLAG_FAST_DIFF_INVALID);
    return rbd_diff_iterate2(img, NULL, 0, size, 0, fast ? 1 : 0, count_extent,
                             out);
}

static char *
parent_of(SpRbdImage img)
{
    rbd_linked_image_spec_t p;
    rbd_snap_spec_t s;
    char *out;

    if (rbd_get_parent(img, &p, &s) < 0)
        return NULL;
    out = g_strdup_printf("%s%s%s/%s@%s", p.pool_name,
                          p.pool_namespace && *p.pool_namespace ? "/" : "",
                          p.pool_namespace ? p.pool_namespace : "",
                          p.image_name, s.name);
    rbd_linked_image_spec_cleanup(&p);
    rbd_snap_spec_cleanup(&s);
    return out;
}

/* The info of the open image @img; rc < 0 from librbd in *rc. */
static SpRbdVolInfo *
info_of(SpRbdPool *pool, SpRbdImage img, const char *name, int *rc,
        GError **error)
{
    g_autoptr(SpRbdVolInfo) i = g_new0(SpRbdVolInfo, 1);
    g_autofree char *fmt = NULL;
    g_autoptr(GError) local = NULL;

    i->name = g_strdup(name);
    if ((*rc = rbd_get_size(img, &i->capacity)) < 0 ||
        (*rc = rbd_get_features(img, &i->features)) < 0 ||
        (*rc = allocation_of(img, i->capacity, i->features, &i->allocation)) <
            0) {
        sp_rbd_fail(pool, error, *rc, _("volume '%s' in rbd pool '%s'"), name,
                    pool->name);
        return NULL;
    }
    fmt = sp_rbd_meta_get(pool, img, name, SP_RBD_KEY_FORMAT, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        *rc = -EIO;
        return NULL;
    }
    i->recorded = fmt != NULL;
    i->format = fmt ? sp_format_from_string(fmt) : SP_FORMAT_UNKNOWN;
    i->parent = parent_of(img);
    return g_steal_pointer(&i);
}

SpRbdVolInfo *
sp_rbd_info(SpRbdPool *pool, const char *name, GError **error)
{
    g_auto(SpRbdImage) img = NULL;
    int rc;

    if (!sp_rbd_check_name(name, error) ||
        !sp_rbd_open(pool, name, FALSE, &img, error))
        return NULL;
    return info_of(pool, img, name, &rc, error);
}

GPtrArray *
sp_rbd_image_names(SpRbdPool *pool, GError **error)
{
    size_t max = 64;
    g_autofree rbd_image_spec_t *specs = NULL;
    GPtrArray *names;
    int rc;

    for (;;) {
        specs = g_renew(rbd_image_spec_t, specs, max);
        rc = rbd_list2(pool->io, specs, &max);
        if (rc != -ERANGE)
            break;
    }
    if (rc < 0) {
        sp_rbd_fail(pool, error, rc, _("rbd pool '%s': listing images"),
                    pool->name);
        return NULL;
    }
    names = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < max; i++)
        g_ptr_array_add(names, g_strdup(specs[i].name));
    rbd_image_spec_list_cleanup(specs, max);
    return names;
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct {
    SpRbdPool *pool;
    GPtrArray *names;
    SpRbdVolInfo **out;
    gint next;
    GMutex mu;
    GError *error;
} ListJob;

static gpointer
list_worker(gpointer data)
{
    ListJob *job = data;

    for (;;) {
        gint i = g_atomic_int_add(&job->next, 1);
        const char *name;
        g_auto(SpRbdImage) img = NULL;
        g_autoptr(GError) local = NULL;
        int rc;

        if (i >= (gint)job->names->len)
            break;
        name = g_ptr_array_index(job->names, i);
        rc = rbd_open_read_only(job->pool->io, name, &img, NULL);
        if (rc == -ENOENT) { /* removed meanwhile: not listed */
            img = NULL;
            continue;
        }
        if (rc < 0) {
            img = NULL;
            sp_rbd_fail(job->pool, &local, rc,
                        _("volume '%s' in rbd pool '%s'"), name,
                        job->pool->name);
        } else {
            job->out[i] = info_of(job->pool, img, name, &rc, &local);
            if (!job->out[i] && rc == -ENOENT)
                g_clear_error(&local);
        }
        if (local) {
            g_mutex_lock(&job->mu);
            if (!job->error)
                job->error = g_steal_pointer(&local);
            g_mutex_unlock(&job->mu);
        }
    }
    return NULL;
}

/* Opening an image costs a few round trips: eight at a time. */
#define SP_RBD_LIST_THREADS 8

GPtrArray *
sp_rbd_list(SpRbdPool *pool, GError **error)
{
    g_autoptr(GPtrArray) all = sp_rbd_image_names(pool, error);
    g_autoptr(GPtrArray) names = NULL;
    GThread *threads[SP_RBD_LIST_THREADS];
    guint nthreads;
    GPtrArray *vols;
    ListJob job = {0};

    if (!all)
        return NULL;
    names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < all->len; i++) {
        const char *n = g_ptr_array_index(all, i);

        if (n[0] != '.' && sp_rbd_check_name(n, NULL))
            g_ptr_array_add(names, g_strdup(n));
    }
    g_ptr_array_sort(names, cmp_names);
    job.pool = pool;
    job.names = names;
    job.out = g_new0(SpRbdVolInfo *, names->len + 1);
    g_mutex_init(&job.mu);
    nthreads = MIN(SP_RBD_LIST_THREADS, names->len);
    for (guint t = 0; t < nthreads; t++)
        threads[t] = g_thread_new("sp-rbd-list", list_worker, &job);
    if (nthreads == 0)
        list_worker(&job);
    for (guint t = 0; t < nthreads; t++)
        g_thread_join(threads[t]);
    g_mutex_clear(&job.mu);
    vols = g_ptr_array_new_with_free_func((GDestroyNotify)sp_rbd_vol_info_free);
    for (guint i = 0; i < names->len; i++) {
        if (job.out[i])
            g_ptr_array_add(vols, job.out[i]);
    }
    g_free(job.out);
    if (job.error) {
        g_propagate_error(error, job.error);
        g_ptr_array_unref(vols);
        return NULL;
    }
    return vols;
}

SpVolume *
sp_rbd_lookup(SpRbdPool *pool, const char *name, GError **error)
{
    g_auto(SpRbdImage) img = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(SpVolume) vol = NULL;
    uint64_t size = 0;
    int rc;

    if (!sp_rbd_check_name(name, error) ||
        !sp_rbd_open(pool, name, FALSE, &img, error))
        return NULL;
    if ((rc = rbd_get_size(img, &size)) < 0) {
        sp_rbd_fail(pool, error, rc, _("volume '%s'"), name);
        return NULL;
    }
    xml = sp_rbd_meta_get(pool, img, name, SP_RBD_KEY_XML, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    if (xml) {
        if (!(vol = sp_volume_parse(xml, strlen(xml), &local))) {
            g_set_error(error, SP_ERROR, SP_ERROR_FAILED,
                        _("volume '%s': recorded definition unreadable: %s"),
                        name, local->message);
            return NULL;
        }
    } else {
        /* not made by safepool: only what the image itself says */
        vol = sp_volume_new();
        vol->name = g_strdup(name);
        vol->format = SP_FORMAT_UNKNOWN;
    }
    vol->has_capacity = TRUE;
    vol->capacity = size;
    vol->has_allocation = FALSE;
    return g_steal_pointer(&vol);
}

gboolean
sp_rbd_check_unwatched(SpRbdPool *pool, SpRbdImage img, const char *name,
                       const char *doing, GError **error)
{
    size_t max = 8;
    g_autofree rbd_image_watcher_t *w = NULL;
    g_autoptr(GString) addrs = NULL;
    int rc;

    for (;;) {
        w = g_renew(rbd_image_watcher_t, w, max);
        rc = rbd_watchers_list(img, w, &max);
        if (rc != -ERANGE)
            break;
    }
    if (rc < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': watchers"), name);
    addrs = g_string_new(NULL);
    for (size_t i = 0; i < max; i++) {
        /* our own handle (opened read-write for this operation) */
        if ((guint64)w[i].id == rados_get_instance_id(pool->cluster))
            continue;
        g_string_append_printf(addrs, "%s%s (client.%" G_GINT64_FORMAT ")",
                               addrs->len ? ", " : "", w[i].addr, w[i].id);
    }
    rbd_watchers_list_cleanup(w, max);
    if (addrs->len == 0)
        return TRUE;
    g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                _("%s volume '%s' refused: it is open (in a qemu or another "
                  "client, on this or another host): %s"),
                doing, name, addrs->str);
    return FALSE;
}

GPtrArray *
sp_rbd_children(SpRbdPool *pool, SpRbdImage img, const char *name,
                GError **error)
{
    size_t max = 8;
    g_autofree rbd_linked_image_spec_t *c = NULL;
    GPtrArray *out;
    int rc;

    for (;;) {
        c = g_renew(rbd_linked_image_spec_t, c, max);
        rc = rbd_list_children3(img, c, &max);
        if (rc != -ERANGE)
            break;
    }
    if (rc < 0) {
        sp_rbd_fail(pool, error, rc, _("volume '%s': clones"), name);
        return NULL;
    }
    out = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < max; i++) {
        if (c[i].trash)
            continue;
        g_ptr_array_add(out,
                        g_strdup_printf("%s%s%s/%s", c[i].pool_name,
                                        *c[i].pool_namespace ? "/" : "",
                                        c[i].pool_namespace, c[i].image_name));
    }
    rbd_linked_image_spec_list_cleanup(c, max);
    return out;
}

/* Ceph's encodings: a little-endian u32; a string after its length. */
static void
put_u32(GByteArray *b, guint32 v)
{
    guint32 le = GUINT32_TO_LE(v);

    g_byte_array_append(b, (const guint8 *)&le, sizeof le);
}

static void
put_string(GByteArray *b, const char *s)
{
    put_u32(b, (guint32)strlen(s));
    g_byte_array_append(b, (const guint8 *)s, strlen(s));
}

/* rbd_metadata_set() opens the image (a watch), takes its exclusive
 * lock, writes one key, releases the lock and closes: open, two keys and
 * close took 16 ms of a 42 ms create + record + rename on ceph-mini; the
 * one call below takes 1 ms (notes/rbd-meta-probe.c). It is the cls_rbd
 * call librbd itself makes, "metadata_set" on the image's header object
 * (found by "get_id" on rbd_id.NAME), and sets every key in one OSD
 * transaction; these calls and object names are Ceph's wire and on-disk
 * interface, kept by every release since 0.94 and used by krbd too. The
 * header must exist (assert_exists: a concurrent removal leaves no stray
 * header behind). Only for an image this operation has just made: what
 * librbd would check (read-only, mirroring, journal, watchers to notify)
 * cannot apply to it. */
static gboolean
meta_set_fresh(SpRbdPool *pool, const char *image, const char *shown,
               const char *const *kv, GError **error)
{
    g_autofree char *id_oid = g_strconcat("rbd_id.", image, NULL);
    g_autofree char *hdr_oid = NULL;
    g_autoptr(GByteArray) in = g_byte_array_new();
    guint32 n = 0;
    char out[4 + 128];
    rados_write_op_t op;
    guint32 len;
    int rc, prval = 0;

    rc =
        rados_exec(pool->io, id_oid, "rbd", "get_id", NULL, 0, out, sizeof out);
    if (rc >= 0 && rc < 4)
        rc = -EIO;
    if (rc < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': its image id"),
                           shown);
    memcpy(&len, out, 4);
    len = GUINT32_FROM_LE(len);
    if (len == 0 || len > (guint32)rc - 4 || memchr(out + 4, '\0', len))
        return sp_rbd_fail(pool, error, -EIO, _("volume '%s': its image id"),
                           shown);
    hdr_oid = g_strdup_printf("rbd_header.%.*s", (int)len, out + 4);
    /* map<string, bufferlist>: a count, then each key and value */
    for (const char *const *p = kv; *p; p += 2)
        n++;
    put_u32(in, n);
    for (const char *const *p = kv; *p; p += 2) {
        put_string(in, p[0]);
        put_string(in, p[1]);
    }
    op = rados_create_write_op();
    rados_write_op_assert_exists(op);
    rados_write_op_exec(op, "rbd", "metadata_set", (const char *)in->data,
                        in->len, &prval);
    rc = rados_write_op_operate(op, pool->io, hdr_oid, NULL, 0);
    rados_release_write_op(op);
    if (rc == 0 && prval < 0)
        rc = prval;
    if (rc < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s': its metadata"),
                           shown);
    return TRUE;
}

gboolean
sp_rbd_meta_set(SpRbdPool *pool, const char *image, const char *shown,
                gboolean fresh, const char *const *kv, GError **error)
{
    g_auto(SpRbdImage) img = NULL;

    if (fresh)
        return meta_set_fresh(pool, image, shown, kv, error);
    if (!sp_rbd_open(pool, image, TRUE, &img, error))
        return FALSE;
    for (const char *const *p = kv; *p; p += 2) {
        int rc = rbd_metadata_set(img, p[0], p[1]);

        if (rc < 0)
            return sp_rbd_fail(pool, error, rc, _("volume '%s': its metadata"),
                               shown);
    }
    return TRUE;
}
