/* One fuzz input as a vTPM archive (shared by libFuzzer and replay). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int sp_fuzz_vtpm_archive_one(const uint8_t *data, size_t size);
