/* Images qemu-img made, written again (image/sp-template.h): the second
 * volume of a shape is written without running qemu-img, and its bytes are
 * exactly what qemu-img makes for that shape, for every shape tried; a new
 * size, new options or a changed qemu-img binary runs qemu-img again, and
 * what is not reusable (backing file, encryption, preallocation) always
 * does. A logging wrapper configured as qemu_img counts the runs. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "conf/sp-policy.h"
#include "image/sp-pool.h"
#include "image/sp-template.h"
#include "util/sp-error.h"

typedef struct {
    char *dir, *pool_dir, *log, *wrapper;
    SpPolicy *policy;
    SpPool *pool;
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *script = NULL, *conf = NULL;

    f->dir = g_dir_make_tmp("sp-template-XXXXXX", &error);
    g_assert_no_error(error);
    f->pool_dir = g_build_filename(f->dir, "pool", NULL);
    f->log = g_build_filename(f->dir, "runs.log", NULL);
    f->wrapper = g_build_filename(f->dir, "qemu-img-counted", NULL);
    g_assert_cmpint(g_mkdir(f->pool_dir, 0755), ==, 0);
    script = g_strdup_printf("#!/bin/sh\necho run >>'%s'\n"
                             "exec /usr/bin/qemu-img \"$@\"\n",
                             f->log);
    g_assert_true(g_file_set_contents(f->wrapper, script, -1, &error));
    g_assert_cmpint(g_chmod(f->wrapper, 0755), ==, 0);
    /* unsandboxed: the wrapper writes its log on the host */
    conf = g_strdup_printf("[qemu-img]\nqemu_img=%s\nsandbox=false\n"
                           "[luks]\niter_time=10\n",
                           f->wrapper);
    f->policy = sp_policy_load_data(conf, strlen(conf), "test.conf", &error);
    g_assert_no_error(error);
    f->pool = sp_pool_open(f->pool_dir, f->policy, &error);
    g_assert_no_error(error);
    sp_template_clear();
}

static void
teardown(Fixture *f, gconstpointer data)
{
    const char *argv[] = {"/bin/rm", "-rf", f->dir, NULL};

    sp_template_clear();
    sp_pool_free(f->pool);
    sp_policy_free(f->policy);
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, NULL,
                               NULL, NULL, NULL));
    g_free(f->dir);
    g_free(f->pool_dir);
    g_free(f->log);
    g_free(f->wrapper);
}

static guint
runs(Fixture *f)
{
    g_autofree char *log = NULL;
    gsize len = 0;
    guint n = 0;

    if (!g_file_get_contents(f->log, &log, &len, NULL))
        return 0;
    for (gsize i = 0; i < len; i++)
        n += log[i] == '\n';
    return n;
}

/* Create volume @name from @inner (the <target> children and more after
 * the name); the qemu-img runs it took. */
static guint
create(Fixture *f, const char *name, const char *capacity, const char *inner)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = g_strdup_printf(
        "<volume><name>%s</name><capacity>%s</capacity>%s</volume>", name,
        capacity, inner);
    g_autoptr(SpVolume) v = sp_volume_parse(xml, strlen(xml), &error);
    g_autofree char *path = NULL;
    guint before = runs(f);

    g_assert_no_error(error);
    path = sp_pool_create(f->pool, v, NULL, &error);
    g_assert_no_error(error);
    return runs(f) - before;
}

static char *
contents(const char *path, gsize *len)
{
    char *data = NULL;

    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return data;
}

/* The file volume @name is, byte for byte, what qemu-img itself makes
 * with @opts and @capacity. */
static void
assert_same_as_qemu_img(Fixture *f, const char *name, const char *opts,
                        const char *capacity)
{
    g_autofree char *ref = g_build_filename(f->dir, "reference.qcow2", NULL);
    g_autofree char *vol = g_build_filename(f->pool_dir, name, NULL);
    const char *argv[] = {"/usr/bin/qemu-img",
                          "create",
                          "-q",
                          "-f",
                          "qcow2",
                          "-o",
                          opts,
                          ref,
                          capacity,
                          NULL};
    g_autofree char *a = NULL, *b = NULL;
    gsize alen, blen;
    int status = -1;

    g_unlink(ref);
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                               NULL, NULL, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    a = contents(ref, &alen);
    b = contents(vol, &blen);
    g_assert_cmpuint(blen, ==, alen);
    g_assert_true(memcmp(a, b, alen) == 0);
}

#define QCOW2 "<target><format type='qcow2'/></target>"

static const struct {
    const char *capacity, *inner, *opts;
} shapes[] = {
    {"1073741824", QCOW2, "compat=1.1"},
    {"10737418240",
     "<target><format type='qcow2'/><compat>0.10</compat></target>",
     "compat=0.10"},
    {"1099511627776",
     "<target><format type='qcow2'/><features><lazy_refcounts/>"
     "</features></target>",
     "compat=1.1,lazy_refcounts=on"},
    {"536870912",
     "<target><format type='qcow2'/><clusterSize unit='KiB'>4</clusterSize>"
     "</target>",
     "compat=1.1,cluster_size=4096"},
};

/* Each shape: the first volume runs qemu-img, the second does not, and
 * both are what qemu-img makes. */
static void
test_same_bytes(Fixture *f, gconstpointer data)
{
    for (gsize i = 0; i < G_N_ELEMENTS(shapes); i++) {
        g_autofree char *a = g_strdup_printf("a%zu.qcow2", i);
        g_autofree char *b = g_strdup_printf("b%zu.qcow2", i);

        g_test_message("shape %zu: %s %s", i, shapes[i].capacity,
                       shapes[i].opts);
        g_assert_cmpuint(create(f, a, shapes[i].capacity, shapes[i].inner), ==,
                         1);
        g_assert_cmpuint(create(f, b, shapes[i].capacity, shapes[i].inner), ==,
                         0);
        assert_same_as_qemu_img(f, a, shapes[i].opts, shapes[i].capacity);
        assert_same_as_qemu_img(f, b, shapes[i].opts, shapes[i].capacity);
    }
}

/* A new size is a new shape; so is a qemu-img that changed on disk. */
static void
test_new_shape(Fixture *f, gconstpointer data)
{
    struct timespec later[2] = {{.tv_nsec = UTIME_OMIT},
                                {.tv_sec = 1700000000}};

    g_assert_cmpuint(create(f, "a.qcow2", "1073741824", QCOW2), ==, 1);
    g_assert_cmpuint(create(f, "b.qcow2", "1073741825", QCOW2), ==, 1);
    g_assert_cmpuint(create(f, "c.qcow2", "1073741824", QCOW2), ==, 0);
    g_assert_cmpint(utimensat(AT_FDCWD, f->wrapper, later, 0), ==, 0);
    g_assert_cmpuint(create(f, "d.qcow2", "1073741824", QCOW2), ==, 1);
    g_assert_cmpuint(create(f, "e.qcow2", "1073741824", QCOW2), ==, 0);
}

/* What depends on more than the arguments runs qemu-img every time. */
static void
test_not_reusable(Fixture *f, gconstpointer data)
{
    g_autofree char *backing = NULL;

    g_assert_cmpuint(create(f, "base.qcow2", "1048576", QCOW2), ==, 1);
    backing =
        g_strdup_printf(QCOW2 "<backingStore><path>%s/base.qcow2</path><format "
                              "type='qcow2'/></backingStore>",
                        f->pool_dir);
    for (guint i = 0; i < 2; i++) {
        g_autofree char *o = g_strdup_printf("o%u.qcow2", i);
        g_autofree char *m = g_strdup_printf("m%u.qcow2", i);

        g_assert_cmpuint(create(f, o, "1048576", backing), ==, 1);
        /* allocation = capacity: preallocation=falloc */
        g_assert_cmpuint(
            create(f, m, "1048576", "<allocation>1048576</allocation>" QCOW2),
            ==, 1);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/template/same-bytes", Fixture, NULL, setup, test_same_bytes,
               teardown);
    g_test_add("/template/new-shape", Fixture, NULL, setup, test_new_shape,
               teardown);
    g_test_add("/template/not-reusable", Fixture, NULL, setup,
               test_not_reusable, teardown);
    return g_test_run();
}
