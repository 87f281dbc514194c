/* libFuzzer target for vTPM archives (built with -Dfuzz=true). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-vtpm-archive-one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return sp_fuzz_vtpm_archive_one(data, size);
}
