#!/bin/bash
# Stock libvirt rbd backend against safepool's, in one run, on one
# throwaway ceph-mini cluster (with a mgr, so pool capacity is real):
# 200 creates, the clone of a 4 GiB and a 64 GiB image holding 256 MiB,
# refresh of 1,000 images, upload/download of 1 GiB holding 256 MiB
# (against `rbd import`/`export`: stock cannot). Writes RESULTS-rbd.md.
#
#   bench/bench-rbd.sh <fs module.so> <rbd module.so> <safepool> [RESULTS.md]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
[ $# -ge 3 ] || { echo "usage: $0 <fs.so> <rbd.so> <safepool> [RESULTS.md]" >&2; exit 2; }
T=$(mktemp -d /tmp/sp-bench-rbd.XXXXXX)
stop() {
    "$src/tools/ceph-mini" stop "$T/ceph" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap stop EXIT
CEPH_MINI_OSD_SIZE=$((16 << 30)) "$src/tools/ceph-mini" start "$T/ceph" --mgr \
    >"$T/ceph.env" 2>"$T/ceph.log"
"$src/tools/make-backend-dir" "$1" "$2" "$T/backends" 2>/dev/null
. "$T/ceph.env"
export CEPH_CONF
SP_TEST_TMP=$T SAFEPOOL_SRCDIR=$src SP_SAFEPOOL=$(readlink -f "$3") \
CEPH_MON_HOST=$CEPH_MON_HOST CEPH_MON_PORT=$CEPH_MON_PORT CEPH_USER=$CEPH_USER \
SP_RESULTS=${4:-$here/RESULTS-rbd.md} \
    /usr/bin/python3 "$here/bench_rbd.py" 3< <(printf %s "$CEPH_USER_KEY")
