/* rbd-probe: exercises the librados/librbd calls an RBD backend needs,
 * against a tools/ceph-mini cluster, with no ceph.conf at all: only
 * rados_create2 + rados_conf_set (mon_host, key, timeouts).
 * Not part of the build; see NOTES-ceph.md for what it showed.
 *
 *   cc -O2 -Wall -o rbd-probe notes/rbd-probe.c -lrbd -lrados
 *
 * Environment: PROBE_MON (host:port), PROBE_USER (default libvirt),
 * PROBE_KEYFILE (a file holding the base64 key; never on the command line),
 * PROBE_MOUNT_TIMEOUT (client_mount_timeout, default 5).
 *
 *   rbd-probe connect
 *   rbd-probe basic POOL DATA_POOL
 *   rbd-probe clone POOL
 *   rbd-probe lock POOL OID COOKIE DURATION_S HOLD_S
 *   rbd-probe watchers POOL IMAGE
 *   rbd-probe diff POOL
 *   rbd-probe opstimeout POOL IMAGE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double t_start;
#define REPORT(what, rc)                                                       \
    printf("%-44s rc=%-5d %-12s %.3f s\n", (what), (int)(rc),                  \
           (rc) < 0 ? strerrorname_np(-(int)(rc)) : "", now() - t_start)
#define CALL(what, expr)                                                       \
    ({                                                                         \
        double t0_ = now();                                                    \
        long rc_ = (expr);                                                     \
        printf("%-44s rc=%-5ld %-12s %.3f s\n", (what), rc_,                   \
               rc_ < 0 ? strerrorname_np(-(int)rc_) : "", now() - t0_);        \
        rc_;                                                                   \
    })
#define MUST(what, expr)                                                       \
    do {                                                                       \
        if (CALL(what, expr) < 0)                                              \
            exit(1);                                                           \
    } while (0)

static char *
read_key(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof buf, f)) {
        perror(path);
        exit(2);
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = 0;
    return buf;
}

static rados_t
connect_cluster(void)
{
    const char *mon = getenv("PROBE_MON");
    const char *user = getenv("PROBE_USER") ? getenv("PROBE_USER") : "libvirt";
    const char *keyfile = getenv("PROBE_KEYFILE");
    const char *tmo =
        getenv("PROBE_MOUNT_TIMEOUT") ? getenv("PROBE_MOUNT_TIMEOUT") : "5";
    char name[128];
    rados_t c;
    int rc;

    if (!mon || !keyfile) {
        fprintf(stderr, "set PROBE_MON and PROBE_KEYFILE\n");
        exit(2);
    }
    snprintf(name, sizeof name, "client.%s", user);
    /* No rados_conf_read_file, no rados_conf_parse_env: CEPH_CONF and
     * CEPH_ARGS are then never looked at. */
    MUST("rados_create2", rados_create2(&c, "ceph", name, 0));
    MUST("conf_set mon_host", rados_conf_set(c, "mon_host", mon));
    MUST("conf_set key", rados_conf_set(c, "key", read_key(keyfile)));
    MUST("conf_set client_mount_timeout",
         rados_conf_set(c, "client_mount_timeout", tmo));
    MUST("conf_set rados_mon_op_timeout",
         rados_conf_set(c, "rados_mon_op_timeout", "10"));
    MUST("conf_set rados_osd_op_timeout",
         rados_conf_set(c, "rados_osd_op_timeout", "10"));
    /* Would otherwise default to /etc/ceph/... keyring search: harmless
     * with "key" set, but make it explicit there is no file. */
    MUST("conf_set keyring (empty)", rados_conf_set(c, "keyring", ""));
    /* an unknown option */
    CALL("conf_set no_such_option (expect ENOENT)",
         rados_conf_set(c, "no_such_option", "1"));
    rc = CALL("rados_connect", rados_connect(c));
    if (rc < 0) {
        rados_shutdown(c);
        exit(1);
    }
    return c;
}

static rados_ioctx_t
open_pool(rados_t c, const char *pool)
{
    rados_ioctx_t io;
    MUST("rados_ioctx_create", rados_ioctx_create(c, pool, &io));
    return io;
}

/* librbd calls the progress callback unconditionally: NULL crashes
 * rbd_resize2 as soon as a shrink has objects to remove. */
static int
no_progress(uint64_t done, uint64_t total, void *arg)
{
    (void)done, (void)total, (void)arg;
    return 0;
}

static void
cmd_basic(rados_t c, const char *pool, const char *data_pool)
{
    rados_ioctx_t io = open_pool(c, pool);
    rbd_image_options_t opts;
    rbd_image_t img;
    char val[64], keys[256], vals[256];
    size_t vlen = sizeof val, klen = sizeof keys, vslen = sizeof vals;
    uint64_t features, size;

    rbd_remove(io, "probe-basic");
    rbd_remove(io, "probe-renamed");
    rbd_image_options_create(&opts);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
    rbd_image_options_set_uint64(
        opts, RBD_IMAGE_OPTION_FEATURES,
        RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK |
            RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF |
            RBD_FEATURE_DEEP_FLATTEN);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_ORDER, 22);
    MUST("rbd_create4 1 GiB", rbd_create4(io, "probe-basic", 1ULL << 30, opts));
    CALL("rbd_create4 same name again (expect EEXIST)",
         rbd_create4(io, "probe-basic", 1ULL << 30, opts));
    rbd_image_options_destroy(opts);

    MUST("rbd_open", rbd_open(io, "probe-basic", &img, NULL));
    MUST("rbd_metadata_set safepool.owner",
         rbd_metadata_set(img, "safepool.owner", "vm1"));
    MUST("rbd_metadata_set second key",
         rbd_metadata_set(img, "safepool.format", "raw"));
    MUST("rbd_metadata_get",
         rbd_metadata_get(img, "safepool.owner", val, &vlen));
    printf("  metadata safepool.owner = '%s' (val_len after success: %zu)\n",
           val, vlen);
    vlen = 2;
    CALL("rbd_metadata_get small buf (expect ERANGE)",
         rbd_metadata_get(img, "safepool.owner", val, &vlen));
    printf("  needed val_len %zu\n", vlen);
    vlen = sizeof val;
    CALL("rbd_metadata_get missing (expect ENOENT)",
         rbd_metadata_get(img, "nope", val, &vlen));
    MUST("rbd_metadata_list",
         rbd_metadata_list(img, "", 0, keys, &klen, vals, &vslen));
    printf("  list: keys_len %zu vals_len %zu first key '%s' next '%s'\n", klen,
           vslen, keys, keys + strlen(keys) + 1);
    CALL("rbd_metadata_set 'conf_rbd_cache' (a conf_ key)",
         rbd_metadata_set(img, "conf_rbd_cache", "false"));
    rbd_get_features(img, &features);
    printf("  features 0x%llx\n", (unsigned long long)features);

    char buf[4096];
    memset(buf, 0xab, sizeof buf);
    CALL("rbd_write 4 KiB", rbd_write(img, 0, sizeof buf, buf));
    CALL("rbd_discard 4 KiB", rbd_discard(img, 0, sizeof buf));
    CALL("rbd_write_zeroes 1 MiB",
         rbd_write_zeroes(img, 1 << 20, 1 << 20, 0, 0));
    CALL("rbd_resize2 grow 2 GiB",
         rbd_resize2(img, 2ULL << 30, false, no_progress, NULL));
    CALL("rbd_resize2 shrink, allow_shrink=false (expect EINVAL)",
         rbd_resize2(img, 1ULL << 30, false, no_progress, NULL));
    if (getenv("PROBE_RESIZE_NULL_CB"))
        CALL("rbd_resize2 shrink, allow_shrink=true, cb NULL",
             rbd_resize2(img, 1ULL << 30, true, NULL, NULL));
    CALL("rbd_resize2 shrink, allow_shrink=true",
         rbd_resize2(img, 1ULL << 30, true, no_progress, NULL));
    rbd_get_size(img, &size);
    printf("  size now %llu\n", (unsigned long long)size);
    CALL("rbd_rename while open",
         rbd_rename(io, "probe-basic", "probe-renamed"));
    CALL("rbd_close", rbd_close(img));
    CALL("rbd_rename to existing name (expect EEXIST)",
         (rbd_create2(io, "probe-other", 1 << 20, 1, &(int){22}),
          rbd_rename(io, "probe-renamed", "probe-other")));
    rbd_remove(io, "probe-other");
    CALL("rbd_open old name (expect ENOENT)",
         rbd_open(io, "probe-basic", &img, NULL));
    MUST("rbd_open new name", rbd_open(io, "probe-renamed", &img, NULL));
    vlen = sizeof val;
    CALL("rbd_metadata_get after rename",
         rbd_metadata_get(img, "safepool.owner", val, &vlen));
    printf("  metadata kept: '%s'\n", val);
    rbd_close(img);

    /* rbd_list2 */
    rbd_image_spec_t specs[64];
    size_t n = 64;
    int rc = CALL("rbd_list2", rbd_list2(io, specs, &n));
    if (rc >= 0) {
        printf("  %zu images:", n);
        for (size_t i = 0; i < n; i++)
            printf(" %s(id %s)", specs[i].name, specs[i].id);
        printf("\n");
        rbd_image_spec_list_cleanup(specs, n);
    }
    n = 0;
    CALL("rbd_list2 max 0 (expect ERANGE, n = count)",
         rbd_list2(io, specs, &n));
    printf("  n = %zu\n", n);

    /* data pool */
    if (data_pool) {
        rbd_image_options_create(&opts);
        rbd_image_options_set_string(opts, RBD_IMAGE_OPTION_DATA_POOL,
                                     data_pool);
        rbd_remove(io, "probe-datapool");
        CALL("rbd_create4 with DATA_POOL",
             rbd_create4(io, "probe-datapool", 64 << 20, opts));
        rbd_image_options_destroy(opts);
        if (rbd_open(io, "probe-datapool", &img, NULL) == 0) {
            rbd_get_features(img, &features);
            printf("  features 0x%llx (DATA_POOL bit 0x80 %s)\n",
                   (unsigned long long)features,
                   features & RBD_FEATURE_DATA_POOL ? "set" : "clear");
            CALL("rbd_write into data-pool image",
                 rbd_write(img, 0, sizeof buf, buf));
            rbd_close(img);
        }
        CALL("rbd_remove data-pool image", rbd_remove(io, "probe-datapool"));
    }

    /* namespace */
    CALL("rbd_namespace_create ns1", rbd_namespace_create(io, "ns1"));
    rados_ioctx_set_namespace(io, "ns1");
    opts = NULL;
    rbd_image_options_create(&opts);
    CALL("rbd_create4 in namespace ns1",
         rbd_create4(io, "in-ns", 16 << 20, opts));
    rbd_image_options_destroy(opts);
    n = 64;
    rc = CALL("rbd_list2 in ns1", rbd_list2(io, specs, &n));
    if (rc >= 0) {
        printf("  ns1 holds %zu image(s): %s\n", n, n ? specs[0].name : "");
        rbd_image_spec_list_cleanup(specs, n);
    }
    CALL("rbd_remove in ns1", rbd_remove(io, "in-ns"));
    rados_ioctx_set_namespace(io, "");
    CALL("rbd_namespace_remove ns1", rbd_namespace_remove(io, "ns1"));
    rados_ioctx_set_namespace(io, "no-such-ns");
    rbd_image_options_create(&opts);
    CALL("rbd_create4 in missing namespace",
         rbd_create4(io, "x", 16 << 20, opts));
    rbd_image_options_destroy(opts);
    rados_ioctx_set_namespace(io, "");

    CALL("rbd_remove", rbd_remove(io, "probe-renamed"));
    rados_ioctx_destroy(io);
}

static int
count_children(rbd_image_t img)
{
    rbd_linked_image_spec_t kids[16];
    size_t n = 16;
    int rc = CALL("rbd_list_children3", rbd_list_children3(img, kids, &n));
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        printf("  child %s/%s%s%s (id %s, trash %d)\n", kids[i].pool_name,
               kids[i].pool_namespace, *kids[i].pool_namespace ? "/" : "",
               kids[i].image_name, kids[i].image_id, kids[i].trash);
    rbd_linked_image_spec_list_cleanup(kids, n);
    return (int)n;
}

static void
cmd_clone(rados_t c, const char *pool)
{
    rados_ioctx_t io = open_pool(c, pool);
    rbd_image_options_t opts;
    rbd_image_t img, child;
    char buf[4096];

    rbd_remove(io, "probe-child");
    rbd_remove(io, "probe-parent");
    rbd_image_options_create(&opts);
    MUST("rbd_create4 parent", rbd_create4(io, "probe-parent", 64 << 20, opts));
    rbd_image_options_destroy(opts);
    MUST("rbd_open parent", rbd_open(io, "probe-parent", &img, NULL));
    memset(buf, 0x11, sizeof buf);
    rbd_write(img, 0, sizeof buf, buf);
    MUST("rbd_snap_create", rbd_snap_create(img, "base"));
    rbd_image_options_create(&opts);
    CALL("rbd_clone3 unprotected snap, clone format default",
         rbd_clone3(io, "probe-parent", "base", io, "probe-child", opts));
    rbd_remove(io, "probe-child");
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, 1);
    CALL("rbd_clone3 unprotected snap, CLONE_FORMAT=1 (expect EINVAL)",
         rbd_clone3(io, "probe-parent", "base", io, "probe-child", opts));
    rbd_image_options_destroy(opts);
    MUST("rbd_snap_protect", rbd_snap_protect(img, "base"));
    int prot = 0;
    rbd_snap_is_protected(img, "base", &prot);
    printf("  protected = %d\n", prot);
    rbd_image_options_create(&opts);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, 1);
    MUST("rbd_clone3 protected snap, CLONE_FORMAT=1",
         rbd_clone3(io, "probe-parent", "base", io, "probe-child", opts));
    rbd_image_options_destroy(opts);
    printf("  children with no snapshot set on the handle:\n");
    count_children(img);
    MUST("rbd_snap_set base", rbd_snap_set(img, "base"));
    count_children(img);
    rbd_snap_set(img, NULL);
    CALL("rbd_snap_unprotect with a child (expect EBUSY)",
         rbd_snap_unprotect(img, "base"));
    CALL("rbd_snap_remove with a child (expect EBUSY)",
         rbd_snap_remove(img, "base"));
    CALL("rbd_remove parent with snaps (expect ENOTEMPTY)",
         rbd_remove(io, "probe-parent"));

    MUST("rbd_open child", rbd_open(io, "probe-child", &child, NULL));
    memset(buf, 0, sizeof buf);
    rbd_read(child, 0, sizeof buf, buf);
    printf("  child reads parent data: %s\n", buf[0] == 0x11 ? "yes" : "NO");
    rbd_linked_image_spec_t p;
    rbd_snap_spec_t ps;
    if (CALL("rbd_get_parent", rbd_get_parent(child, &p, &ps)) == 0) {
        printf("  parent %s/%s@%s\n", p.pool_name, p.image_name, ps.name);
        rbd_linked_image_spec_cleanup(&p);
        rbd_snap_spec_cleanup(&ps);
    }
    CALL("rbd_flatten", rbd_flatten(child));
    CALL("rbd_get_parent after flatten (expect ENOENT)",
         rbd_get_parent(child, &p, &ps));
    rbd_close(child);
    rbd_snap_set(img, "base");
    count_children(img);
    rbd_snap_set(img, NULL);
    CALL("rbd_snap_unprotect", rbd_snap_unprotect(img, "base"));
    CALL("rbd_snap_remove", rbd_snap_remove(img, "base"));

    /* clone v2 (no protection) and remove the snapshot under a child */
    rbd_snap_create(img, "v2");
    rbd_image_options_create(&opts);
    rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, 2);
    rbd_remove(io, "probe-child2");
    CALL("rbd_clone3 CLONE_FORMAT=2 unprotected",
         rbd_clone3(io, "probe-parent", "v2", io, "probe-child2", opts));
    rbd_image_options_destroy(opts);
    CALL("rbd_snap_remove v2 snap with child (goes to trash ns)",
         rbd_snap_remove(img, "v2"));
    CALL("rbd_remove parent with child2 (expect EBUSY/ENOTEMPTY)",
         rbd_remove(io, "probe-parent"));
    CALL("rbd_remove child2", rbd_remove(io, "probe-child2"));
    rbd_close(img);
    CALL("rbd_remove child", rbd_remove(io, "probe-child"));
    CALL("rbd_remove parent", rbd_remove(io, "probe-parent"));
    rados_ioctx_destroy(io);
}

static void
cmd_lock(rados_t c, const char *pool, const char *oid, const char *cookie,
         int duration, int hold)
{
    rados_ioctx_t io = open_pool(c, pool);
    struct timeval tv = {.tv_sec = duration};
    int rc = CALL("rados_lock_exclusive",
                  rados_lock_exclusive(io, oid, "safepool", cookie, "probe",
                                       duration ? &tv : NULL, 0));
    if (rc == 0 && hold > 0) {
        fflush(stdout);
        sleep(hold);
        rc = CALL("rados_lock_exclusive again, same cookie (renew?)",
                  rados_lock_exclusive(io, oid, "safepool", cookie, "probe",
                                       duration ? &tv : NULL, 0));
        CALL("... with LIBRADOS_LOCK_FLAG_MAY_RENEW",
             rados_lock_exclusive(io, oid, "safepool", cookie, "probe",
                                  duration ? &tv : NULL,
                                  LIBRADOS_LOCK_FLAG_MAY_RENEW));
        CALL("rados_unlock", rados_unlock(io, oid, "safepool", cookie));
    } else if (rc == -EBUSY) {
        char tag[64], clients[256], cookies[256], addrs[256];
        size_t tl = sizeof tag, cl = sizeof clients, kl = sizeof cookies,
               al = sizeof addrs;
        int excl = 0;
        ssize_t n =
            CALL("rados_list_lockers",
                 rados_list_lockers(io, oid, "safepool", &excl, tag, &tl,
                                    clients, &cl, cookies, &kl, addrs, &al));
        if (n > 0)
            printf(
                "  %zd locker(s), exclusive=%d: client %s cookie %s addr %s\n",
                n, excl, clients, cookies, addrs);
        CALL("rados_unlock someone else's (expect ENOENT)",
             rados_unlock(io, oid, "safepool", cookie));
    } else if (rc == 0 && hold < 0) {
        printf("  holding, exiting without unlock\n");
    }
    rados_ioctx_destroy(io);
}

static void
cmd_watchers(rados_t c, const char *pool, const char *name)
{
    rados_ioctx_t io = open_pool(c, pool);
    rbd_image_t img;
    rbd_image_watcher_t w[16];
    size_t n = 16;

    /* read-only open: does not register a watch of its own */
    MUST("rbd_open_read_only", rbd_open_read_only(io, name, &img, NULL));
    int rc = CALL("rbd_watchers_list (read-only open)",
                  rbd_watchers_list(img, w, &n));
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            printf("  watcher addr %s id %lld cookie %llu\n", w[i].addr,
                   (long long)w[i].id, (unsigned long long)w[i].cookie);
        rbd_watchers_list_cleanup(w, n);
    }
    rbd_close(img);
    MUST("rbd_open (read-write)", rbd_open(io, name, &img, NULL));
    n = 16;
    rc = CALL("rbd_watchers_list (rw open: includes us)",
              rbd_watchers_list(img, w, &n));
    if (rc == 0) {
        printf("  %zu watcher(s)\n", n);
        rbd_watchers_list_cleanup(w, n);
    }
    rbd_close(img);
    rados_ioctx_destroy(io);
}

struct diffacc {
    uint64_t exists_bytes, hole_bytes;
    unsigned long extents;
};

static int
diff_cb(uint64_t off, size_t len, int exists, void *arg)
{
    struct diffacc *a = arg;
    (void)off;
    a->extents++;
    if (exists)
        a->exists_bytes += len;
    else
        a->hole_bytes += len;
    return 0;
}

static void
diff_one(rbd_image_t img, uint64_t size, int whole_object, const char *label)
{
    struct diffacc a = {0};
    double t0 = now();
    int rc =
        rbd_diff_iterate2(img, NULL, 0, size, 1, whole_object, diff_cb, &a);
    printf("  diff_iterate2 %-28s whole_object=%d rc=%d: %lu extents, %llu MiB "
           "allocated, %.3f s\n",
           label, whole_object, rc, a.extents,
           (unsigned long long)(a.exists_bytes >> 20), now() - t0);
}

static void
cmd_diff(rados_t c, const char *pool)
{
    rados_ioctx_t io = open_pool(c, pool);
    static const struct {
        const char *name;
        uint64_t features;
    } kinds[] = {
        {"probe-diff-fastdiff", RBD_FEATURES_DEFAULT},
        {"probe-diff-layering", RBD_FEATURE_LAYERING},
    };
    const uint64_t size = 4ULL << 30, chunk = 4 << 20;
    char *buf = malloc(chunk);

    memset(buf, 0x5a, chunk);
    for (size_t k = 0; k < 2; k++) {
        rbd_image_options_t opts;
        rbd_image_t img;
        rbd_remove(io, kinds[k].name);
        rbd_image_options_create(&opts);
        rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES,
                                     kinds[k].features);
        MUST(kinds[k].name, rbd_create4(io, kinds[k].name, size, opts));
        rbd_image_options_destroy(opts);
        MUST("rbd_open", rbd_open(io, kinds[k].name, &img, NULL));
        diff_one(img, size, 0, "empty");
        /* 256 MiB in 64 chunks of 4 MiB, one every 64 MiB */
        double t0 = now();
        for (int i = 0; i < 64; i++)
            if (rbd_write(img, (uint64_t)i * (64 << 20), chunk, buf) !=
                (ssize_t)chunk) {
                fprintf(stderr, "write failed\n");
                exit(1);
            }
        printf("  wrote 256 MiB in %.2f s\n", now() - t0);
        diff_one(img, size, 0, "256 MiB written");
        diff_one(img, size, 1, "256 MiB written");
        /* a 4 KiB write in a fresh object, and a discard of one chunk */
        rbd_write(img, (uint64_t)32 << 20, 4096, buf);
        rbd_discard(img, 0, chunk);
        diff_one(img, size, 0, "+4K, -4M discard");
        diff_one(img, size, 1, "+4K, -4M discard");
        rbd_close(img);
        /* a fresh open (object map loaded from the OSD) */
        rbd_open_read_only(io, kinds[k].name, &img, NULL);
        diff_one(img, size, 0, "re-opened read-only");
        rbd_close(img);
        rbd_remove(io, kinds[k].name);
    }
    free(buf);
    rados_ioctx_destroy(io);
}

/* With the OSD stopped: does an open or a read end after rados_osd_op_timeout?
 */
static void
cmd_opstimeout(rados_t c, const char *pool, const char *name)
{
    rados_ioctx_t io = open_pool(c, pool);
    rbd_image_t img;
    int rc = CALL("rbd_open with OSD down", rbd_open(io, name, &img, NULL));
    if (rc == 0) {
        char b[512];
        CALL("rbd_read with OSD down", rbd_read(img, 0, sizeof b, b));
        rbd_close(img);
    }
    struct rados_cluster_stat_t st;
    CALL("rados_cluster_stat", rados_cluster_stat(c, &st));
    rados_ioctx_destroy(io);
}

int
main(int argc, char **argv)
{
    rados_t c;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return 2;
    t_start = now();
    c = connect_cluster();
    printf("connected after %.3f s\n", now() - t_start);
    if (!strcmp(argv[1], "connect")) {
        struct rados_cluster_stat_t st;
        if (CALL("rados_cluster_stat", rados_cluster_stat(c, &st)) == 0)
            printf("  kb %llu kb_used %llu kb_avail %llu objects %llu\n",
                   (unsigned long long)st.kb, (unsigned long long)st.kb_used,
                   (unsigned long long)st.kb_avail,
                   (unsigned long long)st.num_objects);
    } else if (!strcmp(argv[1], "basic") && argc >= 3) {
        cmd_basic(c, argv[2], argc > 3 ? argv[3] : NULL);
    } else if (!strcmp(argv[1], "clone") && argc == 3) {
        cmd_clone(c, argv[2]);
    } else if (!strcmp(argv[1], "lock") && argc == 7) {
        cmd_lock(c, argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]));
    } else if (!strcmp(argv[1], "watchers") && argc == 4) {
        cmd_watchers(c, argv[2], argv[3]);
    } else if (!strcmp(argv[1], "diff") && argc == 3) {
        cmd_diff(c, argv[2]);
    } else if (!strcmp(argv[1], "opstimeout") && argc == 4) {
        cmd_opstimeout(c, argv[2], argv[3]);
    } else {
        fprintf(stderr, "bad command\n");
        return 2;
    }
    rados_shutdown(c);
    return 0;
}
