/* Helpers shared by the volume commands (cmd-vol*.c). */
#pragma once

#include "image/sp-pool.h"
#include "tools/sp-cli.h"

/* Load the policy and open the pool DIR. NULL + *exit_code set
 * (the error already reported) on failure. */
SpPool *sp_cmd_open_pool(SpCli *cli, const char *pool_dir, int *exit_code);

/* Parse a volume command's options: --pool-dir DIR (required; returned in
 * @pool_dir) plus @extra (NULL-terminated, may be NULL), then exactly
 * @n_args positional arguments, named by @params in the usage error.
 * FALSE with *exit_code set (usage reported, or 0 after --help). */
gboolean sp_cmd_vol_parse(SpCli *cli, const char *command, const char *params,
                          const char *summary, const GOptionEntry *extra,
                          guint n_args, char **pool_dir, int *argc, char ***argv,
                          int *exit_code);

/* The path of a volume (plain), or {"volume","path"} with --json. */
void sp_cmd_print_volume_path(SpCli *cli, const char *name, const char *path);
