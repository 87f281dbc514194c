/* Replays the volume XML fuzz corpus as a normal test. */
#include "fuzz-volume-one.h"
#include "replay-lib.h"

int
main(int argc, char **argv)
{
    return sp_fuzz_replay_main(argc, argv, sp_fuzz_volume_one);
}
