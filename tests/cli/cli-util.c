/* Helpers for the CLI tests (see cli-util.h). */
#include "cli-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

CliEnv *
cli_env_new(const char *extra)
{
    g_autoptr(GError) error = NULL;
    CliEnv *e = g_new0(CliEnv, 1);
    g_autofree char *conf = NULL;

    e->dir = g_dir_make_tmp("sp-cli-XXXXXX", &error);
    g_assert_no_error(error);
    e->pool = g_build_filename(e->dir, "pool", NULL);
    e->logs = g_build_filename(e->dir, "logs", NULL);
    e->conf = g_build_filename(e->dir, "safepool.conf", NULL);
    g_assert_cmpint(g_mkdir(e->pool, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(e->logs, 0700), ==, 0);
    conf = g_strdup_printf("[luks]\niter_time=10\n%s", extra ? extra : "");
    g_assert_true(g_file_set_contents(e->conf, conf, -1, &error));
    return e;
}

void
cli_env_free(CliEnv *e)
{
    if (!e)
        return;
    if (e->dir) {
        const char *argv[] = {"/bin/rm", "-rf", "--one-file-system", e->dir,
                              NULL};
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     NULL, NULL, NULL, NULL);
    }
    g_free(e->dir);
    g_free(e->pool);
    g_free(e->conf);
    g_free(e->logs);
    g_free(e);
}

int
cli_runv(CliEnv *e, const char *const *args, char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    const char *bin = g_getenv("SAFEPOOL_BIN");
    int status = -1;

    g_assert_nonnull(bin);
    g_ptr_array_add(argv, (char *)bin);
    g_ptr_array_add(argv, "--config");
    g_ptr_array_add(argv, e->conf);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_DEFAULT, NULL, NULL, out, err, &status,
                               &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

int
cli_run(CliEnv *e, char **out, char **err, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    va_list ap;
    const char *a;

    va_start(ap, err);
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(args, (char *)a);
    va_end(ap);
    g_ptr_array_add(args, NULL);
    return cli_runv(e, (const char *const *)args->pdata, out, err);
}

void
cli_write_file(const char *path, const char *data, gssize len)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, data, len, &error));
    g_assert_no_error(error);
}

char *
cli_write_xml(CliEnv *e, const char *fname, const char *xml)
{
    char *path = g_build_filename(e->dir, fname, NULL);

    cli_write_file(path, xml, -1);
    return path;
}

char *
cli_write_script(CliEnv *e, const char *fname, const char *body)
{
    char *path = g_build_filename(e->dir, fname, NULL);

    cli_write_file(path, body, -1);
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
    return path;
}

JsonObject *
cli_qemu_img_info(const char *path, const char *const *extra)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    int status = -1;

    g_ptr_array_add(argv, "/usr/bin/qemu-img");
    g_ptr_array_add(argv, "info");
    g_ptr_array_add(argv, "-U");
    g_ptr_array_add(argv, "--output=json");
    for (const char *const *a = extra; a && *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, (char *)path);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, &error));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return NULL;
    g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
    return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

guint
cli_count_tmp(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    guint count = 0;

    g_assert_nonnull(d);
    while ((n = g_dir_read_name(d)))
        if (g_str_has_prefix(n, ".safepool-tmp-"))
            count++;
    return count;
}

gboolean
cli_tree_contains(const char *dir, const char *needle, const char *skip_path)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;

    if (!d)
        return FALSE;
    while ((n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        g_autofree char *data = NULL;
        gsize len = 0;
        GStatBuf st;

        if (g_lstat(p, &st) < 0 || (skip_path && g_str_equal(p, skip_path)))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (cli_tree_contains(p, needle, skip_path))
                return TRUE;
            continue;
        }
        if (!S_ISREG(st.st_mode) || !g_file_get_contents(p, &data, &len, NULL))
            continue;
        if (memmem(data, len, needle, strlen(needle)))
            return TRUE;
    }
    return FALSE;
}

void
cli_assert_same_stat(const struct stat *a, const struct stat *b)
{
    g_assert_cmpuint(a->st_ino, ==, b->st_ino);
    g_assert_cmpuint(a->st_uid, ==, b->st_uid);
    g_assert_cmpuint(a->st_gid, ==, b->st_gid);
    g_assert_cmpuint(a->st_mode, ==, b->st_mode);
    g_assert_cmpuint(a->st_size, ==, b->st_size);
    g_assert_cmpint(a->st_mtim.tv_sec, ==, b->st_mtim.tv_sec);
    g_assert_cmpint(a->st_mtim.tv_nsec, ==, b->st_mtim.tv_nsec);
}
