/* Runs one input through the inspector as every format: the input is put
 * in a memfd because the inspector reads files by fd with pread. */
#include "fuzz-inspect-one.h"

#include <sys/mman.h>
#include <unistd.h>

#include "inspect/sp-inspect.h"

int
sp_fuzz_inspect_one(const uint8_t *data, size_t size)
{
    /* explicit policy: extended L2 refused and only LUKS1 allowed so that
     * those branches run too; a small read budget keeps inputs honest */
    SpPolicy pol = {
        .max_capacity = 1ull << 44,
        .allow_extended_l2 = FALSE,
        .luks_versions = 1u << 1,
        .max_image_read = 1024 * 1024,
    };
    int fd = memfd_create("fuzz-inspect", MFD_CLOEXEC);
    size_t done = 0;

    if (fd < 0)
        return 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return 0;
        }
        done += (size_t)n;
    }
    for (int f = SP_FORMAT_UNKNOWN; f < SP_FORMAT_LAST; f++) {
        GError *error = NULL;
        SpInspectResult *r = sp_inspect_fd(fd, (SpFormat)f, &pol, &error);

        if (r) {
            /* the result must be self-consistent */
            if (r->safe != (r->violations->len == 0) ||
                r->bytes_read > pol.max_image_read)
                __builtin_trap();
            sp_inspect_result_free(r);
        }
        g_clear_error(&error);
    }
    {
        GError *error = NULL;
        guint64 vsize = 0;
        if (!sp_inspect_check(fd, SP_FORMAT_RAW, NULL, "fuzz", &vsize,
                              &error) &&
            !error)
            __builtin_trap();
        g_clear_error(&error);
    }
    close(fd);
    return 0;
}
