#!/bin/bash
# lintian on the packages in $SAFEPOOL_DEBS: nothing at any level, pedantic
# and informational included, except the overrides in debian/*.lintian-
# overrides (each justified there).
set -euo pipefail
debs=${SAFEPOOL_DEBS:-}
[ -n "$debs" ] || { echo "SAFEPOOL_DEBS is not set (tools/build-debs DIR): skipped"; exit 77; }
command -v lintian >/dev/null || { echo "lintian is not installed" >&2; exit 1; }
changes=$(ls "$debs"/safepool_*.changes) || { echo "no .changes in $debs" >&2; exit 1; }
lintian --pedantic --display-info --fail-on error,warning,info,pedantic $changes
echo "lintian: clean"
