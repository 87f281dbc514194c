/* Replays the sealed vTPM archive corpus as a normal test (as root:
 * restore sets owners, and the scratch root is created root:root). */
#include <stdio.h>
#include <unistd.h>

#include "fuzz-vtpm-sealed-one.h"
#include "replay-lib.h"

int
main(int argc, char **argv)
{
    if (getuid() != 0) {
        printf("SKIP: needs root\n");
        return 77;
    }
    return sp_fuzz_replay_main(argc, argv, sp_fuzz_vtpm_sealed_one);
}
