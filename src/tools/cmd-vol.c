/* Placeholder: the volume commands are being written. */
#include "tools/sp-cli.h"

#define SP_STUB(fn) \
    int fn(SpCli *cli, int argc, char **argv) \
    { \
        return sp_cli_usage(cli, argv[0], "not implemented yet"); \
    }
SP_STUB(sp_cmd_validate)
SP_STUB(sp_cmd_plan)
SP_STUB(sp_cmd_vol_create)
SP_STUB(sp_cmd_vol_resize)
SP_STUB(sp_cmd_vol_delete)
SP_STUB(sp_cmd_vol_list)
SP_STUB(sp_cmd_vol_dumpxml)
