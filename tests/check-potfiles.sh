#!/bin/bash
# Every source file with translatable messages must be listed in
# po/POTFILES.in, or its messages silently never reach translators.
set -eu
cd "${SAFEPOOL_SRCDIR:?}"
missing=0
while IFS= read -r f; do
    if ! grep -qxF "$f" po/POTFILES.in; then
        echo "po/POTFILES.in lacks $f" >&2
        missing=1
    fi
done < <(grep -rlE '\b(N_|_)\(' src --include=*.c | sort)
while IFS= read -r f; do
    [ -e "$f" ] || { echo "po/POTFILES.in lists missing file $f" >&2; missing=1; }
done < po/POTFILES.in
exit $missing
