/* rbd-meta-probe: what recording an image's identity costs, per create,
 * three ways (not part of the build):
 *   mode 0  rbd_create4 only (what libvirt's stock backend does)
 *   mode 1  lock, create, rbd_open + 2 x rbd_metadata_set + close,
 *           rbd_rename, unlock (safepool before b8f4e17)
 *   mode 2  lock, create, cls_rbd get_id + one metadata_set, rbd_rename,
 *           unlock (sp_rbd_meta_set)
 *
 *   cc -O2 -o rbd-meta-probe notes/rbd-meta-probe.c -lrbd -lrados
 *   CEPH_CONF=<ceph-mini dir>/ceph.conf ./rbd-meta-probe 50 {0,1,2}
 *
 * On ceph-mini (2026-12-01): mode 0 7.8-9.0 ms; mode 1 42.0 ms (open
 * 6.5, two keys 6.5, close 3.3, rename 15.7); mode 2 23.8 ms (get_id
 * 0.25, metadata_set 0.8, rename 13.9). Uses client.admin, pool "rbd".
 */
#define _GNU_SOURCE
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
#define T(i, expr)                                                             \
    do {                                                                       \
        double _t = now();                                                     \
        int _r = (expr);                                                       \
        if (_r < 0) {                                                          \
            fprintf(stderr, "%s: %d\n", #expr, _r);                            \
            exit(1);                                                           \
        }                                                                      \
        acc[i] += now() - _t;                                                  \
    } while (0)
static size_t
put32(char *b, uint32_t v)
{
    memcpy(b, &v, 4);
    return 4;
}
int
main(int argc, char **argv)
{
    rados_t c;
    rados_ioctx_t io;
    int n = atoi(argv[1]);
    int mode = atoi(argv[2]);
    rados_create(&c, "admin");
    rados_conf_read_file(c, getenv("CEPH_CONF"));
    if (rados_connect(c) < 0)
        return 1;
    rados_ioctx_create(c, "rbd", &io);
    double acc[10] = {0};
    const char *names[] = {"lock",   "create", "open",  "meta", "close",
                           "rename", "unlock", "getid", "exec"};
    double t0 = now();
    for (int i = 0; i < n; i++) {
        char tmp[64], pub[64], ck[64];
        snprintf(tmp, 64, ".tmp-%d-%d", mode, i);
        snprintf(pub, 64, "v-%d-%ld-%d", mode, (long)time(NULL), i);
        snprintf(ck, 64, "ck%d", i);
        rbd_image_options_t o;
        rbd_image_options_create(&o);
        rbd_image_options_set_uint64(o, RBD_IMAGE_OPTION_FORMAT, 2);
        rbd_image_options_set_uint64(o, RBD_IMAGE_OPTION_FEATURES, 61);
        if (mode == 0) {
            T(1, rbd_create4(io, pub, 16 << 20, o));
            rbd_image_options_destroy(o);
            continue;
        }
        T(0, rados_lock_exclusive(io, "lockobj", "l", ck, "", NULL, 0));
        T(1, rbd_create4(io, tmp, 16 << 20, o));
        rbd_image_options_destroy(o);
        if (mode == 1) {
            rbd_image_t img;
            T(2, rbd_open(io, tmp, &img, NULL));
            T(3, rbd_metadata_set(img, "safepool.format", "raw"));
            T(3, rbd_metadata_set(img, "safepool.xml",
                                  "<volume><name>x</name></volume>"));
            T(4, rbd_close(img));
        } else {
            char idb[128];
            char oid[128];
            snprintf(oid, 128, "rbd_id.%s", tmp);
            double t = now();
            int r = rados_read(io, oid, idb, sizeof idb, 0);
            if (r < 4) {
                fprintf(stderr, "read %d\n", r);
                return 1;
            }
            acc[7] += now() - t;
            uint32_t l;
            memcpy(&l, idb, 4);
            char hdr[160];
            snprintf(hdr, 160, "rbd_header.%.*s", (int)l, idb + 4);
            char in[1024];
            size_t p = 0;
            const char *kv[] = {"safepool.format", "raw", "safepool.xml",
                                "<volume><name>x</name></volume>"};
            p += put32(in + p, 2);
            for (int k = 0; k < 4; k++) {
                uint32_t L = strlen(kv[k]);
                p += put32(in + p, L);
                memcpy(in + p, kv[k], L);
                p += L;
            }
            char out[16];
            T(8, rados_exec(io, hdr, "rbd", "metadata_set", in, p, out,
                            sizeof out));
        }
        T(5, rbd_rename(io, tmp, pub));
        T(6, rados_unlock(io, "lockobj", "l", ck));
    }
    double tot = now() - t0;
    printf("mode %d: %.1f ms/create\n", mode, tot * 1000 / n);
    for (int i = 0; i < 9; i++)
        if (acc[i] > 0)
            printf("  %-7s %.2f ms\n", names[i], acc[i] * 1000 / n);
    return 0;
}
