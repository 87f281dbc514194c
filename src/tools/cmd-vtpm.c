/* Placeholder: `safepool vtpm` is being written. */
#include "tools/sp-cli.h"

int
sp_cmd_vtpm(SpCli *cli, int argc, char **argv)
{
    return sp_cli_usage(cli, argv[0], "not implemented yet");
}
