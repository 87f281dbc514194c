/* libFuzzer target for the policy file (built with -Dfuzz=true). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-policy-one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return sp_fuzz_policy_one(data, size);
}
