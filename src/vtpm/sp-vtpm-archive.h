/* vTPM archives: the plain archive of a state (a pax tar with a manifest,
 * built and read in secret buffers), sealed or not on its way to and from
 * a file or a volume; restore checks it whole, then swaps it in. */
#pragma once

#include <glib.h>

#include "util/sp-secret.h"
#include "vtpm/sp-vtpm.h"
#include "vtpm/sp-vtpm-seal.h"

/* Headers and padding on top of the data a valid plain archive may carry. */
#define SP_VTPM_ARCHIVE_SLACK (4 * 1024 * 1024)

/* The plain archive of <uuid>/<tpm_dir>, at most @max bytes of state. The
 * live state is only read. Refused while swtpm runs (LOCKED). */
SpSecret *sp_vtpm_save(SpVtpmRoot *root, const SpVtpmSpec *spec, guint64 max,
                       GError **error);

/* Write @data to a new file @output (O_EXCL|O_NOFOLLOW, 0600: never
 * overwrites), fsync'd; removed again on failure. */
gboolean sp_vtpm_archive_write(const char *output, const guint8 *data,
                               gsize len, GError **error);

/* Read an archive file the user named (a regular file, not a symlink)
 * whole, refusing one larger than a sealed archive of a @max state can be. */
GBytes *sp_vtpm_archive_read(const char *input, guint64 max, GError **error);

/* The plain archive in @data (named @what in messages): a sealed one is
 * unsealed with @key (none: SP_ERROR_USAGE); a plain one is taken only
 * when @allow_plain (else SP_ERROR_INVALID). */
SpSecret *sp_vtpm_archive_open(const guint8 *data, gsize len, const char *what,
                               const SpVtpmKey *key, gboolean allow_plain,
                               guint64 max, GError **error);

/* Restore the plain archive @tar. spec->uuid/tpm_dir NULL: taken from the
 * manifest; when set they must agree with it. Every entry is checked
 * (type, path, size <= @max each and in total, manifest size and sha256)
 * before the state is swapped in with RENAME_EXCHANGE; any failure before
 * the swap leaves the old state untouched. On success spec->uuid/tpm_dir
 * are filled in. */
gboolean sp_vtpm_restore(SpVtpmRoot *root, SpVtpmSpec *spec,
                         const SpSecret *tar, const char *what, guint64 max,
                         GError **error);
