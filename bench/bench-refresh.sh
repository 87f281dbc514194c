#!/bin/bash
# pool-refresh of a dir pool holding 4,000 raw and 1,000 qcow2 volumes made
# by safepool: libvirtd with safepool's module against the stock libvirtd
# on the same directory, in the same run (5 timed refreshes each, after a
# warm-up; median). Writes bench/RESULTS-refresh.md.
#
#   bench/bench-refresh.sh <libvirt_storage_backend_fs.so> [RESULTS.md]
#
# Env: BENCH_RAW (4000), BENCH_QCOW2 (1000), BENCH_RUNS (5), BENCH_DIR
# (/var/tmp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
module=$(readlink -f "${1:?usage: $0 module.so [RESULTS.md]}")
results=${2:-$here/RESULTS-refresh.md}
n_raw=${BENCH_RAW:-4000}
n_qcow2=${BENCH_QCOW2:-1000}
runs=${BENCH_RUNS:-5}
base=${BENCH_DIR:-/var/tmp}

work=$(mktemp -d "$base/sp-bench-refresh.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/pool"
"$top/tools/make-backend-dir" "$module" "$work/backends" 2>/dev/null
fstype=$(df -T "$base" | awk 'NR==2{print $2}')

side() {  # label fill|nofill [private-libvirtd args...]
    local label=$1 fill=$2
    shift 2
    "$top/tools/private-libvirtd" "$@" -- /usr/bin/python3 \
        "$here/bench-refresh.py" "$label" "$work/pool" "$n_raw" "$n_qcow2" \
        "$runs" "$fill"
}

echo "[$base, $fstype] filling the pool through the module, timing its refresh ..." >&2
mod=$(side module fill --backend-dir "$work/backends")
echo "[$base, $fstype] stock libvirtd on the same directory ..." >&2
stock=$(side stock nofill)
echo "[$base, $fstype] the module again (order effects) ..." >&2
mod2=$(side module nofill --backend-dir "$work/backends")

table=$(/usr/bin/python3 - "$stock" "$mod" "$mod2" <<'PY'
import json, statistics, sys
s, m1, m2 = (json.loads(a) for a in sys.argv[1:4])
m = statistics.median(m1["times"] + m2["times"])
r = m / s["median_s"]
print("| pool-refresh of %d volumes | stock libvirtd | with safepool | ratio | target |" % s["volumes"])
print("|---|---|---|---|---|")
print(f"| median of {len(s['times'])} (module: {len(m1['times']) + len(m2['times'])}, two daemons) "
      f"| {s['median_s'] * 1000:.1f} ms | {m * 1000:.1f} ms "
      f"| safepool/stock = {r:.2f} | <= 0.80: {'met' if r <= 0.80 else 'MISSED'} |")
PY
)
echo "$table"
{
    echo "# pool-refresh: safepool module vs stock libvirtd"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), libvirt $(dpkg-query -W -f='${Version}' libvirt-daemon), pool on $base ($fstype)."
    echo
    echo "$table"
    echo
    echo "## Method"
    echo
    echo "    bench/bench-refresh.sh build/src/backend/libvirt_storage_backend_fs.so"
    echo
    echo "$n_raw raw (1 GiB, sparse) and $n_qcow2 qcow2 (1 GiB) volumes are created"
    echo "through the module (so they carry safepool's record), in one directory."
    echo "Each side is a private libvirtd defining a dir pool on that directory and"
    echo "timing \`pool.refresh()\` over python3-libvirt $runs times after one warm-up"
    echo "refresh. The module side runs twice (before and after the stock side) so the"
    echo "page cache favours neither. The stock side probes every file's header;"
    echo "safepool reads each volume's record (one flistxattr, the attributes it"
    echo "lists, a 32-byte read of a qcow2's size field) and parses nothing."
    echo
    echo "Raw:"
    echo
    echo "    stock:  $stock"
    echo "    module: $mod"
    echo "    module: $mod2"
} >"$results"
