#!/bin/bash
# One side of bench-download.sh, inside a private libvirtd: a dense 1 GiB
# raw volume and a sparse 4 GiB one (64 MiB of data), each downloaded with
# virsh vol-download (--sparse for the sparse one) RUNS times, quiet and
# with a CPU-bound neighbour, and what a download costs apart from its
# data (a 4 KiB volume through the Python API, 100 times, quiet);
# prints one JSON line with every time (seconds) of each measurement.
set -euo pipefail
shopt -s inherit_errexit  # a failed or differing download ends the run
label=$1 dir=$2 runs=$3
virsh -q pool-define-as bd dir --target "$dir" >/dev/null
virsh -q pool-start bd >/dev/null
virsh -q vol-create-as bd dense.img 1G --allocation 0 >/dev/null
virsh -q vol-create-as bd sparse.img 4G --allocation 0 >/dev/null
virsh -q vol-create-as bd tiny.img 4096 >/dev/null
# the data: written directly, so both sides download the same bytes
dd if=/dev/urandom of="$dir/dense.img" bs=16M count=64 conv=notrunc status=none
for i in 0 1 2 3; do
    dd if=/dev/urandom of="$dir/sparse.img" bs=16M count=1 seek=$((i * 64)) \
        conv=notrunc status=none
done
out=$(mktemp -d /var/tmp/sp-bench-dl.XXXXXX)
trap 'rm -rf "$out"; [ -n "${hog:-}" ] && kill "$hog" 2>/dev/null' EXIT

time_one() {  # vol [--sparse]
    local t0 t1
    rm -f "$out/f"
    t0=$(date +%s%N)
    virsh -q vol-download --pool bd "$1" "$out/f" ${2:-}
    t1=$(date +%s%N)
    cmp -s "$dir/$1" "$out/f" || { echo "download of $1 differs" >&2; exit 1; }
    echo $(( (t1 - t0) / 1000 ))
}
measure() {  # vol [--sparse] -> "[s, s, ...]"
    local r=()
    time_one "$@" >/dev/null  # warm
    for _ in $(seq "$runs"); do r+=("$(time_one "$@")"); done
    printf '%s\n' "${r[@]}" | awk '{printf "%s%.6f", (NR > 1 ? ", " : "["), $1 / 1e6} END {print "]"}'
}
fixed() {  # -> "[s, s, ...]": 100 downloads of tiny.img after 10 warm-ups
    /usr/bin/python3 - <<'PY'
import json, time, libvirt
conn = libvirt.open("qemu:///system")
vol = conn.storagePoolLookupByName("bd").storageVolLookupByName("tiny.img")
times = []
for i in range(110):
    t = time.perf_counter()
    st = conn.newStream(0)
    vol.download(st, 0, 0, 0)
    got = 0
    while chunk := st.recv(65536):
        got += len(chunk)
    st.finish()
    if got != 4096:
        raise SystemExit(f"tiny.img: {got} bytes downloaded, not 4096")
    if i >= 10:
        times.append(time.perf_counter() - t)
print(json.dumps([round(x, 6) for x in times]))
PY
}
fx=$(fixed)
dq=$(measure dense.img)
sq=$(measure sparse.img --sparse)
/bin/sh -c 'while :; do :; done' & hog=$!
dl=$(measure dense.img)
sl=$(measure sparse.img --sparse)
kill "$hog"; hog=
noise=$(grep -c "unable to truncate" /var/log/libvirt/libvirtd.log || true)
printf '{"side": "%s", "dense_quiet": %s, "sparse_quiet": %s, "dense_load": %s, "sparse_load": %s, "fixed_quiet": %s, "truncate_log_lines": %s}\n' \
    "$label" "$dq" "$sq" "$dl" "$sl" "$fx" "$noise"
