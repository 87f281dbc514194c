/* The corpus replay shared by every fuzz target's replay-*.c: each file of
 * each directory given goes through the target's one-input function. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef int (*SpFuzzOneFunc)(const uint8_t *data, size_t size);

/* main() of a replay test: argv[1..] are corpus directories. Fails (1)
 * when a directory cannot be read or holds no file at all. */
int sp_fuzz_replay_main(int argc, char **argv, SpFuzzOneFunc one);
