/* libFuzzer target for sealed vTPM archives (built with -Dfuzz=true). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-vtpm-sealed-one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return sp_fuzz_vtpm_sealed_one(data, size);
}
