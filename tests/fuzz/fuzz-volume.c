/* libFuzzer target for volume XML (built with -Dfuzz=true). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-volume-one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return sp_fuzz_volume_one(data, size);
}
