#!/bin/bash
# virsh vol-download through libvirtd with safepool's module against the
# stock libvirtd, in the same run: a dense 1 GiB raw volume and a sparse
# 4 GiB one (--sparse), quiet and with a CPU-bound neighbour (median of
# BENCH_RUNS after a warm-up). Writes bench/RESULTS-download.md.
#
#   bench/bench-download.sh <libvirt_storage_backend_fs.so> [RESULTS.md]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
module=$(readlink -f "${1:?usage: $0 module.so [RESULTS.md]}")
results=${2:-$here/RESULTS-download.md}
runs=${BENCH_RUNS:-7}
base=${BENCH_DIR:-/var/tmp}

work=$(mktemp -d "$base/sp-bench-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$top/tools/make-backend-dir" "$module" "$work/backends" 2>/dev/null
fstype=$(df -T "$base" | awk 'NR==2{print $2}')
side() {  # label [private-libvirtd args]
    local label=$1
    shift
    mkdir -p "$work/$label"
    "$top/tools/private-libvirtd" "$@" -- /bin/bash "$here/bench-download.inner.sh" \
        "$label" "$work/$label" "$runs"
    rm -rf "${work:?}/$label"
}
# module, stock, module: the module's figure is the mean of its two runs,
# so a machine that gets busier or quieter during the run favours neither
echo "libvirtd with safepool's module (1/2) ..." >&2
mod1=$(side module --backend-dir "$work/backends")
echo "stock libvirtd ..." >&2
stock=$(side stock)
echo "libvirtd with safepool's module (2/2) ..." >&2
mod2=$(side module --backend-dir "$work/backends")
mod=$(/usr/bin/python3 - "$mod1" "$mod2" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({k: (a[k] + b[k]) / 2 if isinstance(a[k], float) else max(a[k], b[k])
                  for k in a if k != "side"} | {"side": "module"}))
PY
)
table=$(/usr/bin/python3 - "$stock" "$mod" <<'PY'
import json, sys
s, m = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [("1 GiB dense, quiet", "dense_quiet"), ("4 GiB sparse (64 MiB data), quiet", "sparse_quiet"),
        ("1 GiB dense, CPU-bound neighbour", "dense_load"), ("4 GiB sparse, CPU-bound neighbour", "sparse_load")]
print("| virsh vol-download | stock libvirtd | with safepool | safepool/stock | target |")
print("|---|---|---|---|---|")
for name, k in rows:
    r = m[k] / s[k]
    print(f"| {name} | {s[k]:.3f} s | {m[k]:.3f} s | {r:.2f} | <= 1.00 (+5% noise): {'met' if r <= 1.05 else 'MISSED'} |")
print(f"| \"unable to truncate\" lines in libvirtd's log | {s['truncate_log_lines']} | {m['truncate_log_lines']} | | 0 |")
PY
)
echo "$table"
{
    echo "# vol-download: safepool module vs stock libvirtd"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), libvirt $(dpkg-query -W -f='${Version}' libvirt-daemon), pool on $base ($fstype)."
    echo
    echo "$table"
    echo
    echo "## Method"
    echo
    echo "    bench/bench-download.sh build/src/backend/libvirt_storage_backend_fs.so"
    echo
    echo "Each side is a private libvirtd with a dir pool on $base; the same bytes are"
    echo "written into both volumes; \`virsh vol-download\` (\`--sparse\` for the sparse"
    echo "one) runs once to warm up, then $runs times quiet and $runs times next to a"
    echo "shell busy loop; medians. Each download is compared with the volume (cmp)."
    echo "The module side runs before and after the stock side; its figures are the"
    echo "mean of the two."
    echo "safepool hands libvirt a file stream with libvirt's own I/O thread, like the"
    echo "stock backend, opened through /proc/self/fd on the file it opened beneath"
    echo "the pool; before, a plain fd stream read the file in the daemon's event"
    echo "loop, and libvirt's sparse skip tried to truncate its read-only fd."
    echo
    echo "    stock:  $stock"
    echo "    module: $mod1"
    echo "    module: $mod2"
} >"$results"
