/* Upload, download and adopt for RBD volumes. An upload is written into a
 * hidden image (asynchronously, all-zero blocks skipped), inspected by the
 * one inspector through librbd reads, and only then replaces the volume;
 * a download reads the image and tells data from holes. */
#include "rbd/sp-rbd-private.h"

#include <errno.h>
#include <string.h>

/* Writes in flight at once, and the block size holes are found at. */
#define SP_RBD_WINDOW 32
#define SP_RBD_SPARSE_BLOCK 4096

/* -- the inspector's reader over librbd ---------------------------------- */

typedef struct {
    SpRbdPool *pool;
    SpRbdImage img;
    const char *name;
} ImageRead;

static gssize
image_pread(void *opaque, void *buf, gsize len, guint64 off, GError **error)
{
    ImageRead *r = opaque;
    ssize_t n = rbd_read(r->img, off, len, buf);

    if (n < 0) {
        sp_rbd_fail(r->pool, error, (int)n,
                    _("volume '%s': read at offset %" G_GUINT64_FORMAT),
                    r->name, off);
        return -1;
    }
    return n;
}

/* The same gate as a dir-pool upload: the image read as @format. */
static gboolean
inspect_image(SpRbdPool *pool, SpRbdImage img, const char *name,
              SpFormat format, const char *what, GError **error)
{
    ImageRead r = {pool, img, name};
    SpInspReader reader = {image_pread, &r, 0};
    int rc;

    if ((rc = rbd_get_size(img, &reader.size)) < 0)
        return sp_rbd_fail(pool, error, rc, "%s", what);
    return sp_inspect_check_reader(&reader, format, pool->policy, what, NULL,
                                   error);
}

/* -- upload -------------------------------------------------------------- */

struct SpRbdUpload {
    SpRbdPool *pool;
    char *name;
    char *tmp;
    SpRbdLock *lock;
    gboolean made; /* the temporary exists */
    SpRbdImage img;
    guint64 off;  /* what was sent so far */
    guint64 size; /* the temporary's size now */
    rbd_completion_t flight[SP_RBD_WINDOW];
    void *bufs[SP_RBD_WINDOW];
    guint head, count;
    int failed; /* first failed write's rc */
    gboolean committed;
};

static gboolean
only_ours_snaps(SpRbdPool *pool, SpRbdImage img, const char *name,
                GError **error)
{
    int max = 16, n;
    g_autofree rbd_snap_info_t *snaps = NULL;
    gboolean ok = TRUE;

    for (;;) {
        snaps = g_renew(rbd_snap_info_t, snaps, max);
        if ((n = rbd_snap_list(img, snaps, &max)) != -ERANGE)
            break;
    }
    if (n < 0)
        return sp_rbd_fail(pool, error, n, _("volume '%s': snapshots"), name);
    for (int i = 0; i < n && ok; i++)
        ok = g_str_has_prefix(snaps[i].name, SP_RBD_CLONE_SNAP_PREFIX);
    rbd_snap_list_end(snaps);
    if (!ok)
        g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                    _("upload into volume '%s' refused: it has snapshots "
                      "safepool did not make"),
                    name);
    return ok;
}

/* The new image: the volume's features, its recorded identity. */
static gboolean
make_tmp(SpRbdUpload *u, SpRbdImage old, GError **error)
{
    SpRbdPool *pool = u->pool;
    g_autofree char *fmt = NULL;
    g_autofree char *xml = NULL;
    uint64_t features = 0;
    rbd_image_options_t opts;
    int rc;

    if (!(fmt =
              sp_rbd_meta_get(pool, old, u->name, SP_RBD_KEY_FORMAT, error))) {
        if (error && !*error)
            g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                        _("volume '%s': no recorded format (not created by "
                          "safepool; see 'safepool vol-adopt')"),
                        u->name);
        return FALSE;
    }
    xml = sp_rbd_meta_get(pool, old, u->name, SP_RBD_KEY_XML, NULL);
    if ((rc = rbd_get_features(old, &features)) < 0 ||
        (rc = rbd_get_size(old, &u->size)) < 0)
        return sp_rbd_fail(pool, error, rc, _("volume '%s'"), u->name);
    features &= pool->policy->rbd_features_allowed;
    rbd_image_options_create(&opts);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES, features);
    if (pool->policy->rbd_data_pool)
        rbd_image_options_set_string(opts, RBD_IMAGE_OPTION_DATA_POOL,
                                     pool->policy->rbd_data_pool);
    rc = rbd_create4(pool->io, u->tmp, u->size, opts);
    rbd_image_options_destroy(opts);
    if (rc < 0)
        return sp_rbd_fail(pool, error, rc, _("upload into volume '%s'"),
                           u->name);
    u->made = TRUE;
    /* an image adopted without XML has none to carry over */
    return sp_rbd_meta_set(pool, u->tmp, u->name, TRUE,
                           (const char *const[]){SP_RBD_KEY_FORMAT, fmt,
                                                 xml ? SP_RBD_KEY_XML : NULL,
                                                 xml, NULL},
                           error) &&
           sp_rbd_open(pool, u->tmp, TRUE, &u->img, error);
}

SpRbdUpload *
sp_rbd_upload_begin(SpRbdPool *pool, const char *name, GError **error)
{
    g_autoptr(SpRbdUpload) u = g_new0(SpRbdUpload, 1);
    g_auto(SpRbdImage) old = NULL;
    g_autoptr(GPtrArray) children = NULL;

    u->pool = pool;
    u->name = g_strdup(name);
    u->tmp = sp_rbd_tmp_name("upload", name);
    if (!sp_rbd_check_name(name, error) ||
        !(u->lock =
              sp_rbd_lock(pool, name, sp_rbd_lock_wait_ms(pool), error)) ||
        !sp_rbd_open(pool, name, FALSE, &old, error) ||
        !sp_rbd_check_unwatched(pool, old, name, _("upload into"), error) ||
        !(children = sp_rbd_children(pool, old, name, error)))
        return NULL;
    if (children->len > 0) {
        g_set_error(error, SP_ERROR, SP_ERROR_IN_USE,
                    _("upload into volume '%s' refused: it has clones; "
                      "flatten or delete them first"),
                    name);
        return NULL;
    }
    if (!only_ours_snaps(pool, old, name, error) || !make_tmp(u, old, error))
        return NULL;
    return g_steal_pointer(&u);
}

guint64
sp_rbd_upload_offset(const SpRbdUpload *u)
{
    return u->off;
}

/* Wait for the oldest write in flight. */
static void
retire_one(SpRbdUpload *u)
{
    guint i = u->head;
    ssize_t rc;

    rbd_aio_wait_for_complete(u->flight[i]);
    rc = rbd_aio_get_return_value(u->flight[i]);
    if (rc < 0 && !u->failed)
        u->failed = (int)rc;
    rbd_aio_release(u->flight[i]);
    g_free(u->bufs[i]);
    u->bufs[i] = NULL;
    u->head = (u->head + 1) % SP_RBD_WINDOW;
    u->count--;
}

static gboolean
drain(SpRbdUpload *u, GError **error)
{
    while (u->count)
        retire_one(u);
    if (u->failed)
        return sp_rbd_fail(u->pool, error, u->failed,
                           _("upload into volume '%s': write"), u->name);
    return TRUE;
}

/* Room up to @end: the temporary grows in big steps (each resize waits
 * for the writes in flight), never past the policy's max_capacity. */
static gboolean
grow(SpRbdUpload *u, guint64 end, GError **error)
{
    guint64 max = u->pool->policy->max_capacity;
    guint64 want;
    int rc;

    if (end <= u->size)
        return TRUE;
    if (end > max) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("upload into volume '%s': more than the policy's "
                      "max_capacity of %" G_GUINT64_FORMAT " bytes"),
                    u->name, max);
        return FALSE;
    }
    want = MIN(MAX(end, MAX(u->size * 2, G_GUINT64_CONSTANT(1) << 30)), max);
    if (!drain(u, error))
        return FALSE;
    if ((rc = rbd_resize2(u->img, want, false, sp_rbd_no_progress, NULL)) < 0)
        return sp_rbd_fail(u->pool, error, rc,
                           _("upload into volume '%s': resize"), u->name);
    u->size = want;
    return TRUE;
}

static gboolean
submit(SpRbdUpload *u, guint64 off, const guint8 *data, gsize len,
       GError **error)
{
    guint i;
    int rc;

    if (u->count == SP_RBD_WINDOW)
        retire_one(u);
    if (u->failed)
        return drain(u, error);
    i = (u->head + u->count) % SP_RBD_WINDOW;
    u->bufs[i] = g_memdup2(data, len);
    if ((rc = rbd_aio_create_completion(NULL, NULL, &u->flight[i])) < 0 ||
        (rc = rbd_aio_write(u->img, off, len, u->bufs[i], u->flight[i])) < 0) {
        g_clear_pointer(&u->bufs[i], g_free);
        return sp_rbd_fail(u->pool, error, rc,
                           _("upload into volume '%s': write"), u->name);
    }
    u->count++;
    return TRUE;
}

gboolean
sp_rbd_upload_write(SpRbdUpload *u, const void *buf, gsize len, GError **error)
{
    const guint8 *p = buf;
    gsize run = 0, pos = 0;

    if (!grow(u, u->off + len, error))
        return FALSE;
    /* runs of blocks holding data; all-zero blocks stay holes */
    while (pos < len) {
        gsize n = MIN(SP_RBD_SPARSE_BLOCK, len - pos);
        gboolean zero = p[pos] == 0 && memcmp(p + pos, p + pos + 1, n - 1) == 0;

        if (!zero) {
            run += n;
        } else if (run) {
            if (!submit(u, u->off + pos - run, p + pos - run, run, error))
                return FALSE;
            run = 0;
        }
        pos += n;
    }
    if (run && !submit(u, u->off + pos - run, p + pos - run, run, error))
        return FALSE;
    u->off += len;
    return TRUE;
}

gboolean
sp_rbd_upload_hole(SpRbdUpload *u, guint64 len, GError **error)
{
    if (!grow(u, u->off + len, error))
        return FALSE;
    u->off += len;
    return TRUE;
}

/* Publish @u->tmp as the volume: its old content is first moved to a
 * hidden name that records the public one (so a crash between the two
 * renames can be undone by the sweeper), then removed. */
static gboolean
replace(SpRbdUpload *u, GError **error)
{
    SpRbdPool *pool = u->pool;
    g_autofree char *old = sp_rbd_tmp_name("old", u->name);
    g_autoptr(GError) local = NULL;

    {
        g_auto(SpRbdImage) cur = NULL;

        if (!sp_rbd_open(pool, u->name, FALSE, &cur, error) ||
            !sp_rbd_check_unwatched(pool, cur, u->name, _("upload into"),
                                    error))
            return FALSE;
    }
    if (!sp_rbd_meta_set(
            pool, u->name, u->name, FALSE,
            (const char *const[]){SP_RBD_KEY_TMP_OF, u->name, NULL}, error))
        return FALSE;
    if (!sp_rbd_rename(pool, u->lock, u->name, old, u->name, _("upload"),
                       error))
        return FALSE;
    if (!sp_rbd_rename(pool, NULL, u->tmp, u->name, u->name, _("upload"),
                       error)) {
        /* the sweeper puts it back if this fails too */
        (void)sp_rbd_rename(pool, NULL, old, u->name, u->name,
                            _("putting back its old content"), NULL);
        return FALSE;
    }
    u->committed = TRUE;
    if (!sp_rbd_remove_image(pool, old, FALSE, &local))
        g_warning("%s (left for the sweeper)", local->message);
    return TRUE;
}

gboolean
sp_rbd_upload_commit(SpRbdUpload *u, GError **error)
{
    g_autofree char *what =
        g_strdup_printf(_("upload into volume '%s'"), u->name);
    g_auto(SpRbdImage) img = NULL;
    int rc;

    if (!drain(u, error))
        return FALSE;
    if (u->off != u->size &&
        (rc = rbd_resize2(u->img, u->off, true, sp_rbd_no_progress, NULL)) < 0)
        return sp_rbd_fail(u->pool, error, rc, "%s", what);
    if ((rc = rbd_flush(u->img)) < 0)
        return sp_rbd_fail(u->pool, error, rc, "%s", what);
    /* read back through a fresh handle: what any later reader sees */
    g_clear_pointer(&u->img, rbd_close);
    if (!sp_rbd_open(u->pool, u->tmp, FALSE, &img, error) ||
        !inspect_image(u->pool, img, u->tmp, SP_FORMAT_RAW, what, error))
        return FALSE;
    g_clear_pointer(&img, rbd_close);
    return replace(u, error);
}

void
sp_rbd_upload_free(SpRbdUpload *u)
{
    if (!u)
        return;
    while (u->count)
        retire_one(u);
    g_clear_pointer(&u->img, rbd_close);
    if (!u->committed && u->made) {
        g_autoptr(GError) local = NULL;

        if (!sp_rbd_remove_image(u->pool, u->tmp, TRUE, &local))
            g_warning("%s (left for the sweeper)", local->message);
    }
    g_clear_pointer(&u->lock, sp_rbd_lock_release);
    g_free(u->name);
    g_free(u->tmp);
    g_free(u);
}

/* -- download ------------------------------------------------------------ */

struct SpRbdReader {
    SpRbdPool *pool;
    char *name;
    SpRbdImage img;
    guint64 pos, end;
    GArray *extents; /* guint64 pairs: start, end of data, sorted */
    guint ext;       /* first extent that may hold pos */
};

static int
add_extent(uint64_t off, size_t len, int exists, void *arg)
{
    GArray *a = arg;
    guint64 e = off + len;

    if (!exists)
        return 0;
    if (a->len && g_array_index(a, guint64, a->len - 1) == off)
        g_array_index(a, guint64, a->len - 1) = e;
    else {
        g_array_append_val(a, off);
        g_array_append_val(a, e);
    }
    return 0;
}

SpRbdReader *
sp_rbd_reader_open(SpRbdPool *pool, const char *name, guint64 offset,
                   guint64 length, GError **error)
{
    g_autoptr(SpRbdReader) r = g_new0(SpRbdReader, 1);
    uint64_t size = 0, features = 0, flags = 0;
    gboolean fast;
    int rc;

    r->pool = pool;
    r->name = g_strdup(name);
    r->extents = g_array_new(FALSE, FALSE, sizeof(guint64));
    if (!sp_rbd_check_name(name, error) ||
        !sp_rbd_open(pool, name, FALSE, &r->img, error))
        return NULL;
    if ((rc = rbd_get_size(r->img, &size)) < 0 ||
        (rc = rbd_get_features(r->img, &features)) < 0) {
        sp_rbd_fail(pool, error, rc, _("volume '%s'"), name);
        return NULL;
    }
    if (rbd_get_flags(r->img, &flags) < 0)
        flags = RBD_FLAG_FAST_DIFF_INVALID;
    fast = (features & RBD_FEATURE_FAST_DIFF) &&
           !(flags & RBD_FLAG_FAST_DIFF_INVALID);
    r->pos = MIN(offset, size);
    r->end = length && length < size - r->pos ? r->pos + length : size;
    /* a clone's parent data is the clone's data too */
    if ((rc = rbd_diff_iterate2(r->img, NULL, 0, size, 1, fast ? 1 : 0,
                                add_extent, r->extents)) < 0) {
        sp_rbd_fail(pool, error, rc, _("volume '%s': extents"), name);
        return NULL;
    }
    return g_steal_pointer(&r);
}

guint64
sp_rbd_reader_size(const SpRbdReader *r)
{
    return r->end;
}

gssize
sp_rbd_reader_read(SpRbdReader *r, void *buf, gsize len, GError **error)
{
    ssize_t n;

    len = (gsize)MIN((guint64)len, r->end - r->pos);
    if (len == 0)
        return 0;
    n = rbd_read(r->img, r->pos, len, buf);
    if (n < 0) {
        sp_rbd_fail(r->pool, error, (int)n, _("download of volume '%s'"),
                    r->name);
        return -1;
    }
    r->pos += (guint64)n;
    return n;
}

gboolean
sp_rbd_reader_in_data(SpRbdReader *r, gboolean *in_data, guint64 *length,
                      GError **error)
{
    guint n = r->extents->len / 2;

    while (r->ext < n &&
           g_array_index(r->extents, guint64, 2 * r->ext + 1) <= r->pos)
        r->ext++;
    if (r->pos >= r->end) {
        *in_data = FALSE;
        *length = 0;
    } else if (r->ext < n &&
               g_array_index(r->extents, guint64, 2 * r->ext) <= r->pos) {
        *in_data = TRUE;
        *length =
            MIN(g_array_index(r->extents, guint64, 2 * r->ext + 1), r->end) -
            r->pos;
    } else {
        *in_data = FALSE;
        *length =
            (r->ext < n
                 ? MIN(g_array_index(r->extents, guint64, 2 * r->ext), r->end)
                 : r->end) -
            r->pos;
    }
    return TRUE;
}

gboolean
sp_rbd_reader_skip(SpRbdReader *r, guint64 len, GError **error)
{
    r->pos = MIN(r->end, r->pos + len);
    return TRUE;
}

void
sp_rbd_reader_free(SpRbdReader *r)
{
    if (!r)
        return;
    g_clear_pointer(&r->img, rbd_close);
    g_array_unref(r->extents);
    g_free(r->name);
    g_free(r);
}

/* -- adopt --------------------------------------------------------------- */

gboolean
sp_rbd_adopt(SpRbdPool *pool, const char *name, SpFormat format, GError **error)
{
    g_autoptr(SpRbdLock) lock = NULL;
    g_auto(SpRbdImage) img = NULL;
    g_autoptr(SpVolume) vol = sp_volume_new();
    g_autofree char *fmt = NULL;
    g_autofree char *path = g_strdup_printf("%s/%s", pool->name, name);
    g_autofree char *xml = NULL;
    g_autofree char *what = g_strdup_printf(_("volume '%s'"), name);
    g_autoptr(GError) local = NULL;
    int rc;

    if (format != SP_FORMAT_RAW) {
        g_set_error(error, SP_ERROR, SP_ERROR_INVALID,
                    _("volume '%s': RBD images are raw; '%s' cannot be "
                      "recorded"),
                    name, sp_format_to_string(format));
        return FALSE;
    }
    if (!sp_rbd_check_name(name, error) ||
        !(lock = sp_rbd_lock(pool, name, sp_rbd_lock_wait_ms(pool), error)) ||
        !sp_rbd_open(pool, name, TRUE, &img, error))
        return FALSE;
    fmt = sp_rbd_meta_get(pool, img, name, SP_RBD_KEY_FORMAT, &local);
    if (local || fmt) {
        if (!local)
            g_set_error(&local, SP_ERROR, SP_ERROR_EXISTS,
                        _("volume '%s' has a recorded format already (%s)"),
                        name, fmt);
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!inspect_image(pool, img, name, format, what, error))
        return FALSE;
    vol->name = g_strdup(name);
    vol->format = SP_FORMAT_RAW;
    vol->has_capacity = TRUE;
    if ((rc = rbd_get_size(img, &vol->capacity)) < 0)
        return sp_rbd_fail(pool, error, rc, "%s", what);
    xml = sp_volume_to_xml_type(vol, path, "network");
    g_clear_pointer(&img, rbd_close);
    return sp_rbd_meta_set(pool, name, name, FALSE,
                           (const char *const[]){SP_RBD_KEY_FORMAT, "raw",
                                                 SP_RBD_KEY_XML, xml, NULL},
                           error);
}
