/* Saving a vTPM state to a tar archive (libarchive, pax) with a manifest,
 * and restoring one: checked, unpacked into a temporary, swapped in. */
#pragma once

#include <glib.h>

#include "vtpm/sp-vtpm.h"

/* Write <uuid>/<tpm_dir> to a new file @output (O_EXCL: never overwrites).
 * The live state is only read. Refused while swtpm runs (LOCKED). */
gboolean sp_vtpm_save(SpVtpmRoot *root, const SpVtpmSpec *spec,
                      const char *output, guint64 max, GError **error);

/* Restore @input. spec->uuid/tpm_dir NULL: taken from the manifest; when
 * set they must agree with it. Every entry is checked (type, path, size
 * <= @max each and in total, manifest size and sha256) before the state is
 * swapped in with RENAME_EXCHANGE; any failure before the swap leaves the
 * old state untouched. On success spec->uuid/tpm_dir are filled in. */
gboolean sp_vtpm_restore(SpVtpmRoot *root, SpVtpmSpec *spec,
                         const char *input, guint64 max, GError **error);
