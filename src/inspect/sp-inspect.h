/* safepool's own image format inspector: identifies an image from bounded
 * reads of its headers (never qemu-img) and lists what makes it unsafe. */
#pragma once

#include <glib.h>

#include "conf/sp-format.h"
#include "conf/sp-policy.h"

typedef struct {
    SpFormat format;      /* detected (or, with an expected format whose
                             header is present, that one) */
    guint32 formats;      /* SP_FORMAT_BIT of every format whose signature
                             matched (more than one is ambiguous unless
                             it is an ISO with a partition table) */
    guint64 virtual_size; /* guest-visible size in bytes */
    gboolean safe;
    GPtrArray *violations; /* char*: stable names, e.g. "qcow2-backing-file" */
    guint64 bytes_read;    /* how much of the file was read */
    char *backing_name;    /* the backing file a qcow2 header names, as
                              stored (NULL: none) */
    char *backing_format;  /* its backing format extension (NULL: none) */
} SpInspectResult;

void sp_inspect_result_free(SpInspectResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpInspectResult, sp_inspect_result_free)

/* Where an inspected image's bytes come from: a file (sp_inspect_fd) or
 * anything else that can read at an offset, such as an RBD image through
 * librbd. One inspector, any number of readers: no second parser. */
typedef struct {
    /* Read up to @len bytes at @off into @buf (short only at the end);
     * -1 + @error on failure. */
    gssize (*pread)(void *opaque, void *buf, gsize len, guint64 off,
                    GError **error);
    void *opaque;
    guint64 size; /* the image's size in bytes */
} SpInspReader;

/* Inspect the image @reader reads (see sp_inspect_fd). */
SpInspectResult *sp_inspect_reader(const SpInspReader *reader,
                                   SpFormat expected, const SpPolicy *policy,
                                   GError **error);

/* sp_inspect_check for the image @reader reads. */
gboolean sp_inspect_check_reader(const SpInspReader *reader, SpFormat expected,
                                 const SpPolicy *policy, const char *what,
                                 guint64 *virtual_size, GError **error);

/* Inspect the open file @fd. @expected = SP_FORMAT_UNKNOWN detects; else the
 * file is inspected as that format and a mismatch is a violation
 * ("format-mismatch"). Returns NULL only on I/O errors. */
SpInspectResult *sp_inspect_fd(int fd, SpFormat expected,
                               const SpPolicy *policy, GError **error);

/* The single gate every image passes before qemu-img may read it (backing
 * file, clone/convert source, upload, published volume): inspect @fd as
 * @expected; FALSE with SP_ERROR_UNSAFE_IMAGE (or SP_ERROR_FORMAT_MISMATCH)
 * and "<what>: unsafe image: <violation>[, ...]" otherwise. On success the
 * virtual size is stored in @virtual_size if non-NULL. */
gboolean sp_inspect_check(int fd, SpFormat expected, const SpPolicy *policy,
                          const char *what, guint64 *virtual_size,
                          GError **error);

/* The violations of @r joined with ", " (for messages). */
char *sp_inspect_violations_string(const SpInspectResult *r);

/* The names of r->formats joined with "+" ("iso+gpt"). */
char *sp_inspect_formats_string(const SpInspectResult *r);

/* The virtual size of @fd as an image of the recorded @format, reading
 * only the fields that hold it (refresh and listing: nothing is probed,
 * nothing checked). SP_ERROR_INVALID when the header is not there. */
gboolean sp_inspect_virtual_size(int fd, SpFormat format, guint64 *size,
                                 GError **error);
