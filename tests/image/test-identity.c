/* A volume's recorded identity (every user.safepool.* attribute, label,
 * owner, mode) survives every path that replaces or rewrites its file:
 * upload, wipe of raw and structured volumes. One attribute dropped by one
 * path fails this test (defect 4); wipe keeps the very inode (defect 5). */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "conf/sp-policy.h"
#include "image/sp-identity.h"
#include "image/sp-pool.h"
#include "image/sp-upload.h"
#include "util/sp-error.h"
#include "util/sp-fs.h"

#define SP_TEST_LABEL "system_u:object_r:svirt_image_t:s0:c1,c2"
#define SP_TEST_EXTRA "user.safepool.a-key-added-later"

typedef struct {
    char *dir;
    SpPolicy *policy;
    SpPool *pool;
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("sp-identity-XXXXXX", &error);
    g_assert_no_error(error);
    f->policy = sp_policy_new_default();
    f->pool = sp_pool_open(f->dir, f->policy, &error);
    g_assert_no_error(error);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    const char *argv[] = {"/bin/rm", "-rf", f->dir, NULL};

    sp_pool_free(f->pool);
    sp_policy_free(f->policy);
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, NULL,
                               NULL, NULL, NULL));
    g_free(f->dir);
}

static char *
vol_path(Fixture *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}

static void
create(Fixture *f, const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpVolume) v = sp_volume_parse(xml, strlen(xml), &error);
    g_autofree char *path = NULL;

    g_assert_no_error(error);
    path = sp_pool_create(f->pool, v, NULL, &error);
    g_assert_no_error(error);
}

/* Everything the identity is made of, as text: each user.safepool.*
 * attribute with its value, the label, mode, owner and group. */
static char *
identity_of(const char *path)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char names[8192];
    ssize_t n = listxattr(path, names, sizeof(names));
    struct stat st;
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();

    g_assert_cmpint(n, >=, 0);
    for (char *p = names; p < names + n; p += strlen(p) + 1)
        if (g_str_has_prefix(p, "user.safepool.") ||
            g_str_equal(p, "security.selinux"))
            g_ptr_array_add(sorted, p);
    g_ptr_array_sort(sorted, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < sorted->len; i++) {
        const char *name = *(char **)&sorted->pdata[i];
        char value[16384];
        ssize_t len = getxattr(path, name, value, sizeof(value) - 1);

        g_assert_cmpint(len, >=, 0);
        value[len] = '\0';
        g_string_append_printf(s, "%s=%s\n", name, value);
    }
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_string_append_printf(s, "mode=%o uid=%u gid=%u\n", st.st_mode & 07777,
                           st.st_uid, st.st_gid);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The identity as created carries every key safepool defines (for the
 * volume's kind), plus a key a later version might add. */
static char *
mark(Fixture *f, const char *name, gboolean backed)
{
    g_autofree char *path = vol_path(f, name);

    for (guint i = 0; sp_identity_keys[i]; i++) {
        g_autofree char *attr =
            g_strconcat(SP_XATTR_PREFIX, sp_identity_keys[i], NULL);
        gboolean optional =
            g_str_equal(sp_identity_keys[i], SP_ID_ENCRYPTION) ||
            (!backed && g_str_has_prefix(sp_identity_keys[i], SP_ID_BACKING));

        if (!optional)
            g_assert_cmpint(getxattr(path, attr, NULL, 0), >, 0);
    }
    g_assert_cmpint(setxattr(path, SP_TEST_EXTRA, "v2", 2, 0), ==, 0);
    return identity_of(path);
}

static void
upload_same_content(Fixture *f, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpUpload) u = sp_upload_begin(f->pool, name, &error);
    g_autofree char *path = vol_path(f, name);
    g_autofree char *data = NULL;
    gsize len = 0;

    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_true(sp_fs_write_all(sp_upload_fd(u), data, len, &error));
    g_assert_true(sp_upload_commit(u, &error));
    g_assert_no_error(error);
}

static void
test_every_path_keeps_identity(Fixture *f, gconstpointer data)
{
    static const char *const xmls[] = {
        "<volume><name>r.img</name><capacity unit='M'>4</capacity>"
        "<allocation>0</allocation><target><permissions><mode>0640</mode>"
        "<label>" SP_TEST_LABEL "</label></permissions></target></volume>",
        "<volume><name>q.qcow2</name><capacity unit='M'>8</capacity>"
        "<target><format type='qcow2'/><compat>1.1</compat>"
        "<clusterSize unit='KiB'>128</clusterSize><permissions><mode>0640"
        "</mode><label>" SP_TEST_LABEL "</label></permissions></target>"
        "</volume>",
    };
    static const char *const names[] = {"r.img", "q.qcow2"};

    for (gsize i = 0; i < G_N_ELEMENTS(xmls); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = vol_path(f, names[i]);
        g_autofree char *before = NULL;
        g_autofree char *after_upload = NULL;
        g_autofree char *after_wipe = NULL;

        create(f, xmls[i]);
        before = mark(f, names[i], FALSE);
        g_assert_nonnull(strstr(before, "user.safepool.xml="));
        g_assert_nonnull(strstr(before, "mode=640"));

        upload_same_content(f, names[i]);
        after_upload = identity_of(path);
        g_assert_cmpstr(after_upload, ==, before);

        g_assert_true(sp_pool_wipe(f->pool, names[i], &error));
        g_assert_no_error(error);
        after_wipe = identity_of(path);
        g_assert_cmpstr(after_wipe, ==, before);
    }
}

/* The wipe zeroes the same inode: what a guest (an fd opened earlier)
 * reads afterwards is zeros, the blocks are not just swapped away. */
static void
test_wipe_same_inode(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = vol_path(f, "g.img");
    g_autofree guint8 *buf = g_malloc(1 << 20);
    struct stat before, after;
    int fd;

    create(f, "<volume><name>g.img</name><capacity unit='M'>4</capacity>"
              "</volume>");
    fd = open(path, O_RDWR);
    g_assert_cmpint(fd, >=, 0);
    memset(buf, 0xA5, 1 << 20);
    g_assert_cmpint(pwrite(fd, buf, 1 << 20, 1 << 20), ==, 1 << 20);
    g_assert_cmpint(fstat(fd, &before), ==, 0);

    g_assert_true(sp_pool_wipe(f->pool, "g.img", &error));
    g_assert_no_error(error);
    g_assert_cmpint(stat(path, &after), ==, 0);
    g_assert_cmpuint(after.st_ino, ==, before.st_ino);
    g_assert_cmpint(after.st_size, ==, before.st_size);
    /* created without <allocation>: fully allocated, and still so */
    g_assert_cmpint((gint64)after.st_blocks * 512, >=, after.st_size);
    g_assert_cmpint(pread(fd, buf, 1 << 20, 1 << 20), ==, 1 << 20);
    for (gsize i = 0; i < (1 << 20); i++)
        g_assert_cmpint(buf[i], ==, 0);
    close(fd);
}

/* A structured volume open in another process (qemu locks its images) is
 * not rewritten under it; when closed it is rebuilt on the same inode. */
static void
test_wipe_qcow2_in_use(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = vol_path(f, "q.qcow2");
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    struct stat st1, st2;
    struct flock fl = {
        .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 1};
    int fd;

    create(f, "<volume><name>q.qcow2</name><capacity unit='M'>8</capacity>"
              "<target><format type='qcow2'/></target></volume>");
    g_assert_true(g_file_get_contents(path, &before, NULL, NULL));
    fd = open(path, O_RDONLY);
    g_assert_cmpint(fcntl(fd, F_OFD_SETLK, &fl), ==, 0);
    g_assert_false(sp_pool_wipe(f->pool, "q.qcow2", &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_IN_USE);
    g_assert_nonnull(strstr(error->message, "open in a running process"));
    g_clear_error(&error);
    g_assert_true(g_file_get_contents(path, &after, NULL, NULL));
    g_assert_cmpstr(after, ==, before);
    g_assert_cmpint(fstat(fd, &st1), ==, 0);
    close(fd);

    g_assert_true(sp_pool_wipe(f->pool, "q.qcow2", &error));
    g_assert_no_error(error);
    g_assert_cmpint(stat(path, &st2), ==, 0);
    g_assert_cmpuint(st2.st_ino, ==, st1.st_ino);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/identity/every-path-keeps-it", Fixture, NULL, setup,
               test_every_path_keeps_identity, teardown);
    g_test_add("/identity/wipe-same-inode", Fixture, NULL, setup,
               test_wipe_same_inode, teardown);
    g_test_add("/identity/wipe-qcow2-in-use", Fixture, NULL, setup,
               test_wipe_qcow2_in_use, teardown);
    return g_test_run();
}
