/* libFuzzer target for domain XML (built with -Dfuzz=true). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-domain-one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return sp_fuzz_domain_one(data, size);
}
