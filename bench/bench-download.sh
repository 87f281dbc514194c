#!/bin/bash
# virsh vol-download through libvirtd with safepool's module against the
# stock libvirtd, in the same run: a dense 1 GiB raw volume and a sparse
# 4 GiB one (--sparse), quiet and with a CPU-bound neighbour (BENCH_RUNS
# after a warm-up, in BENCH_ROUNDS alternating rounds per side).
# Writes bench/RESULTS-download.md.
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
# module and stock alternate in the order M S S M M S S M ... (ROUNDS
# per side), so a machine that gets steadily busier or quieter during the
# run favours neither side
rounds=${BENCH_ROUNDS:-4}
all=()
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order="module stock"; else order="stock module"; fi
    for s in $order; do
        echo "round $r/$rounds: $s ..." >&2
        if [ "$s" = module ]; then
            all+=("$(side module --backend-dir "$work/backends")")
        else
            all+=("$(side stock)")
        fi
    done
done
# each side's downloads pooled; the ratio of the medians with a bootstrap
# 90% interval that resamples rounds (each a fresh daemon) and then the
# downloads within them. "met": at most 1.05; "MISSED": the interval lies
# above 1.05; else "inconclusive" (noise as large as the difference)
table=$(/usr/bin/python3 - "${all[@]}" <<'PY'
import json, random, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
rng = random.Random(1)
def rounds(side, k):
    return [r[k] for r in runs if r["side"] == side]
def pooled(side, k):
    return [t for rs in rounds(side, k) for t in rs]
def resample(side, k):
    rs = rounds(side, k)
    return [rng.choice(r) for r in rng.choices(rs, k=len(rs)) for _ in r]
rows = [("1 GiB dense, quiet", "dense_quiet"), ("4 GiB sparse (64 MiB data), quiet", "sparse_quiet"),
        ("1 GiB dense, CPU-bound neighbour", "dense_load"), ("4 GiB sparse, CPU-bound neighbour", "sparse_load")]
print("| virsh vol-download | stock libvirtd | with safepool | safepool/stock (90% interval) | target |")
print("|---|---|---|---|---|")
for name, k in rows:
    s, m = statistics.median(pooled("stock", k)), statistics.median(pooled("module", k))
    r = m / s
    boot = sorted(statistics.median(resample("module", k)) / statistics.median(resample("stock", k))
                  for _ in range(2000))
    lo, hi = boot[100], boot[1899]
    verdict = "met" if r <= 1.05 else ("MISSED" if lo > 1.05 else "inconclusive")
    print(f"| {name} | {s:.3f} s | {m:.3f} s | {r:.2f} ({lo:.2f}–{hi:.2f}) | <= 1.00 (+5%): {verdict} |")
s, m = statistics.median(pooled("stock", "fixed_quiet")), statistics.median(pooled("module", "fixed_quiet"))
print(f"| cost of a download apart from its data (4 KiB volume, Python API) | {s * 1000:.2f} ms | {m * 1000:.2f} ms | {(m - s) * 1000:+.2f} ms | (what the module adds per download) |")
lines = lambda side: max(r["truncate_log_lines"] for r in runs if r["side"] == side)
print(f"| \"unable to truncate\" lines in libvirtd's log | {lines('stock')} | {lines('module')} | | 0 |")
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
    echo "shell busy loop. Each download is compared with the volume (cmp); one that"
    echo "fails or differs ends the run. The sides alternate M S S M M S S M ..., $rounds"
    echo "rounds each (a fresh daemon each round); a figure is the median of all the"
    echo "side's downloads, the interval a bootstrap 90% interval of the ratio of"
    echo "medians that resamples rounds, then downloads within them (2,000 times)."
    echo "met: ratio <= 1.05; MISSED: the whole interval above 1.05; else inconclusive."
    echo "The last timed row downloads a 4 KiB volume 100 times through the Python"
    echo "API: what the module adds to every download apart from its data (policy,"
    echo "pool open beneath the directory, name check)."
    echo "safepool hands libvirt a file stream with libvirt's own I/O thread, like the"
    echo "stock backend, opened through /proc/self/fd on the file it opened beneath"
    echo "the pool; before, a plain fd stream read the file in the daemon's event"
    echo "loop, and libvirt's sparse skip tried to truncate its read-only fd."
    echo
    echo "Every download (seconds), by round:"
    echo
    printf '    %s\n' "${all[@]}"
} >"$results"
