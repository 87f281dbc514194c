/* One fuzz input as a policy file (shared by libFuzzer and replay). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int sp_fuzz_policy_one(const uint8_t *data, size_t size);
