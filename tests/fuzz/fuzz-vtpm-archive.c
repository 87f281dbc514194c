/* libFuzzer target for vTPM archives (built with -Dfuzz=true). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-vtpm-archive-one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return sp_fuzz_vtpm_archive_one(data, size);
}

/* The octal number in a tar header field; -1 when it is not one (GNU's
 * base-256 sizes included: the walk below stops there). */
static long long
tar_octal(const uint8_t *p, size_t n)
{
    long long v = 0;
    size_t i = 0;

    while (i < n && p[i] == ' ')
        i++;
    if (i == n || p[i] < '0' || p[i] > '7')
        return -1;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (p[i] - '0');
    return v;
}

/* libarchive refuses a header whose checksum is wrong, and a mutation
 * almost never keeps it right: after libFuzzer's own mutation, every
 * header found by walking the archive gets its checksum recomputed, so
 * mutated names, types, modes and sizes reach restore's own checks. */
size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                        unsigned int seed)
{
    size_t off = 0;

    (void)seed;
    size = LLVMFuzzerMutate(data, size, max_size);
    while (off + 512 <= size && data[off] != '\0') {
        uint8_t *h = data + off;
        unsigned int sum = 0;
        char field[8];
        long long len = tar_octal(h + 124, 12);

        memset(h + 148, ' ', 8);
        for (int i = 0; i < 512; i++)
            sum += h[i];
        snprintf(field, sizeof field, "%06o", sum);
        memcpy(h + 148, field, 7); /* six digits, NUL, then the space */
        if (len < 0 || (unsigned long long)len > size)
            break;
        off += 512 + (((size_t)len + 511) & ~(size_t)511);
    }
    return size;
}
