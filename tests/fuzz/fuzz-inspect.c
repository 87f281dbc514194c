/* libFuzzer target for the image inspector (built with -Dfuzz=true). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-inspect-one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return sp_fuzz_inspect_one(data, size);
}
