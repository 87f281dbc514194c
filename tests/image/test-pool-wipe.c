/* Wiping a structured volume through the pool API: it is rebuilt empty from
 * its recorded definition, and a failed rebuild leaves the volume as it was. */
#include <glib/gstdio.h>
#include <string.h>

#include "conf/sp-policy.h"
#include "image/sp-pool.h"
#include "image/sp-upload.h"
#include "util/sp-error.h"
#include "util/sp-lock.h"

static SpVolume *
qcow2_volume(const char *name)
{
    g_autofree char *xml =
        g_strdup_printf("<volume><name>%s</name><capacity unit='M'>4</capacity>"
                        "<target><format type='qcow2'/></target></volume>",
                        name);
    g_autoptr(GError) error = NULL;
    SpVolume *v = sp_volume_parse(xml, strlen(xml), &error);

    g_assert_no_error(error);
    return v;
}

/* Entries of @dir besides the pool's lock file. */
static guint
count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    guint count = 0;

    g_assert_nonnull(d);
    while ((n = g_dir_read_name(d)))
        if (!g_str_equal(n, SP_LOCK_FILE))
            count++;
    return count;
}

static void
test_wipe_failure_keeps_volume(void)
{
    g_autofree char *dir = g_dir_make_tmp("sp-wipe-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "w.qcow2", NULL);
    g_autoptr(SpPolicy) policy = sp_policy_new_default();
    g_autoptr(SpVolume) vol = qcow2_volume("w.qcow2");
    g_autoptr(SpPool) pool = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *made = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    gsize blen = 0, alen = 0;
    SpCreateArgs args = {0};

    pool = sp_pool_open(dir, policy, &error);
    g_assert_no_error(error);
    made = sp_pool_create(pool, vol, &args, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(made, ==, path);
    g_assert_true(g_file_get_contents(path, &before, &blen, NULL));

    /* The rebuild fails (qemu-img cannot run): the volume must survive. */
    g_free(policy->qemu_img);
    policy->qemu_img = g_strdup("/bin/false");
    g_assert_false(sp_pool_wipe(pool, "w.qcow2", &error));
    g_assert_error(error, SP_ERROR, SP_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "w.qcow2"));
    g_clear_error(&error);
    g_assert_true(g_file_get_contents(path, &after, &alen, NULL));
    g_assert_cmpuint(alen, ==, blen);
    g_assert_true(memcmp(before, after, blen) == 0);
    g_assert_cmpuint(count_entries(dir), ==, 1);

    /* With qemu-img back, the wipe rebuilds it in place. */
    g_free(policy->qemu_img);
    policy->qemu_img = g_strdup("/usr/bin/qemu-img");
    g_assert_true(sp_pool_wipe(pool, "w.qcow2", &error));
    g_assert_no_error(error);
    g_autoptr(SpVolInfo) info = sp_pool_info(pool, "w.qcow2", &error);
    g_assert_no_error(error);
    g_assert_cmpint(info->format, ==, SP_FORMAT_QCOW2);
    g_assert_cmpuint(info->capacity, ==, 4 << 20);
    g_assert_cmpuint(count_entries(dir), ==, 1);

    g_clear_pointer(&pool, sp_pool_free);
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_autofree char *lockfile = g_build_filename(dir, SP_LOCK_FILE, NULL);
    g_unlink(lockfile);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pool/wipe-failure-keeps-volume",
                    test_wipe_failure_keeps_volume);
    return g_test_run();
}
