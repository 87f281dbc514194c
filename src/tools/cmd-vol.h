/* Helpers shared by the volume commands (cmd-vol*.c). */
#pragma once

#include "image/sp-pool.h"
#include "tools/sp-cli.h"

/* Load the policy and open --pool-dir DIR (required). NULL + *exit_code set
 * (the error already reported) on failure. */
SpPool *sp_cmd_open_pool(SpCli *cli, const char *command, const char *pool_dir,
                         int *exit_code);

/* The path of a volume (plain), or {"volume","path"} with --json. */
void sp_cmd_print_volume_path(SpCli *cli, const char *name, const char *path);
