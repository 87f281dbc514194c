/* Helpers for the CLI tests: a private pool + config per test, running the
 * built safepool binary with an argv, reading qemu-img's JSON. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/stat.h>

typedef struct {
    char *dir;  /* test temp dir */
    char *pool; /* dir/pool */
    char *conf; /* dir/safepool.conf */
    char *logs; /* dir/logs (qemu-img wrapper logs) */
} CliEnv;

/* Make dir, pool, logs and a config with @extra lines appended to it
 * ("[qemu-img]\nqemu_img=...\n"); LUKS iter time is kept small. */
CliEnv *cli_env_new(const char *extra);
void cli_env_free(CliEnv *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliEnv, cli_env_free)

/* Run "$SAFEPOOL_BIN --config CONF ARGS..."; returns the exit status. */
int cli_run(CliEnv *e, char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
int cli_runv(CliEnv *e, const char *const *args, char **out, char **err);

/* Write @xml to dir/NAME.xml; returns its path. */
char *cli_write_xml(CliEnv *e, const char *fname, const char *xml);
/* Write an executable script in dir. */
char *cli_write_script(CliEnv *e, const char *fname, const char *body);
void cli_write_file(const char *path, const char *data, gssize len);

/* `qemu-img info --output=json` (with -U) of @path, or of image-opts when
 * @image_opts; extra args before the path (NULL-terminated). Returns
 * parsed object (NULL if qemu-img failed). */
JsonObject *cli_qemu_img_info(const char *path, const char *const *extra);

/* Names of temporaries (.safepool-tmp-*) left in @dir. */
guint cli_count_tmp(const char *dir);

/* Whether @needle occurs in any regular file below @dir (recursive, no
 * symlinks), skipping @skip_path. */
gboolean cli_tree_contains(const char *dir, const char *needle,
                           const char *skip_path);

/* stat snapshot comparisons for "untouched" checks */
void cli_assert_same_stat(const struct stat *a, const struct stat *b);
