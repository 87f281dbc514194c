#!/bin/bash
# Clone benchmark: a sparse raw volume (4 GiB capacity, 256 MiB of data) is
# cloned with `safepool vol-create --from`, `qemu-img convert -f raw -O raw`
# and `cp --sparse=always`, in the same run, on a loop-mounted ext4 and a
# loop-mounted xfs with reflink. Caches are dropped before every run.
# Usage (root): bench/bench-clone.sh [SAFEPOOL_BIN] [RESULTS.md]
set -euo pipefail

SAFEPOOL=${1:-${SAFEPOOL_BIN:-build/src/tools/safepool}}
RESULTS=${2:-$(dirname "$0")/RESULTS-clone.md}
RUNS=${RUNS:-3}
SCHEMA_DIR=${SAFEPOOL_SCHEMA_DIR:-$(cd "$(dirname "$0")/.." && pwd)/schemas}
export SAFEPOOL_SCHEMA_DIR=$SCHEMA_DIR

[ "$(id -u)" = 0 ] || { echo "bench-clone: needs root (loop mounts)" >&2; exit 77; }
SAFEPOOL=$(readlink -f "$SAFEPOOL")
[ -x "$SAFEPOOL" ] || { echo "bench-clone: no safepool binary at $SAFEPOOL" >&2; exit 1; }

work=$(mktemp -d /var/tmp/sp-bench-clone.XXXXXX)
mounts=()
cleanup() {
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

drop_caches() {
    sync
    if ! echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
        cache_note="warm caches (drop_caches not permitted)"
    fi
}
cache_note="data caches dropped before each run (programs warm), methods interleaved"

now() { date +%s.%N; }

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A result blocks

bench_fs() {
    local fs=$1 img=$work/$1.img mnt=$work/$1
    truncate -s 8G "$img"
    case $fs in
        ext4) mkfs.ext4 -q -F "$img" ;;
        xfs) mkfs.xfs -q -f -m reflink=1 "$img" ;;
    esac
    mkdir -p "$mnt"
    mount -o loop "$img" "$mnt"
    mounts+=("$mnt")
    local pool=$mnt/pool conf=$work/$fs.conf
    mkdir "$pool"
    printf '[volumes]\nmax_capacity=16G\n' > "$conf"

    cat > "$work/src.xml" <<EOF
<volume><name>src.img</name><capacity unit='GiB'>4</capacity>
<allocation>0</allocation><target><format type='raw'/></target></volume>
EOF
    cat > "$work/dst.xml" <<EOF
<volume><name>dst.img</name><capacity unit='GiB'>4</capacity>
<allocation>0</allocation><target><format type='raw'/></target></volume>
EOF
    "$SAFEPOOL" --config "$conf" vol-create --pool-dir "$pool" "$work/src.xml" >/dev/null
    # 256 MiB of data: 16 extents of 16 MiB spread over the 4 GiB
    for i in $(seq 0 15); do
        dd if=/dev/urandom of="$pool/src.img" bs=1M count=16 seek=$((i * 256)) \
           conv=notrunc,fsync status=none
    done

    # Round robin (r1: safepool qemu-img cp startup, r2: ...), so that load
    # changes on this shared machine hit every method alike. Data caches are
    # dropped before each run; the programs themselves are then warmed, so
    # what is timed is the clone, not loading binaries from disk.
    local t0 t1 m r
    declare -A times=()
    for r in $(seq 1 "$RUNS"); do
        for m in safepool qemu-img cp startup; do
            rm -f "$pool/dst.img" "$mnt/dst-qemu.img" "$mnt/dst-cp.img"
            drop_caches
            "$SAFEPOOL" --version >/dev/null
            qemu-img --version >/dev/null
            cp --version >/dev/null
            t0=$(now)
            case $m in
                safepool)
                    "$SAFEPOOL" --config "$conf" vol-create --pool-dir "$pool" \
                        --from src.img "$work/dst.xml" >/dev/null
                    out=$pool/dst.img ;;
                qemu-img)
                    qemu-img convert -f raw -O raw "$pool/src.img" "$mnt/dst-qemu.img"
                    out=$mnt/dst-qemu.img ;;
                cp)
                    cp --sparse=always "$pool/src.img" "$mnt/dst-cp.img"
                    out=$mnt/dst-cp.img ;;
                startup)
                    # safepool's fixed cost: exec + dynamic loading, no work
                    "$SAFEPOOL" --version >/dev/null
                    out=$pool/src.img ;;
            esac
            sync -f "$out"
            t1=$(now)
            times[$m]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}') "
            if [ "$m" != startup ]; then
                cmp "$pool/src.img" "$out" || { echo "bench-clone: $m copy differs" >&2; exit 1; }
            fi
            blocks[$fs,$m]=$(( $(stat -c %b "$out") * 512 / 1048576 ))
        done
    done
    for m in safepool qemu-img cp startup; do
        # shellcheck disable=SC2086 # the list is meant to split
        result[$fs,$m]=$(median ${times[$m]})
    done
    blocks[$fs,src]=$(( $(stat -c %b "$pool/src.img") * 512 / 1048576 ))
    rm -f "$pool/dst.img" "$mnt/dst-qemu.img" "$mnt/dst-cp.img"
    umount "$mnt"
    mounts=()
}

bench_fs ext4
bench_fs xfs

table=$(
    printf '| filesystem | method | median seconds (%s runs) | vs cp | allocated MiB |\n' "$RUNS"
    printf '|---|---|---|---|---|\n'
    for fs in ext4 xfs; do
        for m in safepool qemu-img cp startup; do
            ratio=$(awk -v a="${result[$fs,$m]}" -v b="${result[$fs,cp]}" 'BEGIN {printf "%.4f", a / b}')
            printf '| %s | %s | %.3f | %.2fx | %s |\n' "$fs" "$m" "${result[$fs,$m]}" \
                "$ratio" "${blocks[$fs,$m]}"
        done
    done
)
echo "$table"

{
    echo "# Clone benchmark"
    echo
    echo "Sparse raw volume: 4 GiB capacity, 256 MiB of data (16 x 16 MiB extents),"
    echo "source allocation ext4 ${blocks[ext4,src]} MiB, xfs ${blocks[xfs,src]} MiB."
    echo "Each method clones it $RUNS times; $cache_note; time includes syncing the copy."
    echo "Filesystems: 8 GiB loop images, \`mkfs.ext4\` and \`mkfs.xfs -m reflink=1\`."
    echo
    echo "$table"
    echo
    echo "Methods: \`safepool vol-create --pool-dir POOL --from src.img dst.xml\`,"
    echo "\`qemu-img convert -f raw -O raw src.img dst.img\`, \`cp --sparse=always src.img dst.img\`."
    echo
    echo "Reproduce (root): \`bench/bench-clone.sh build/src/tools/safepool\`"
    echo "(or \`meson test -C build --suite bench bench-clone\`)."
    echo
    echo "\`startup\` is \`safepool --version\` alone (exec and dynamic loading of its"
    echo "$(ldd "$SAFEPOOL" | wc -l) shared libraries, warm): the fixed cost inside the safepool row."
    echo
    echo "Machine: $(nproc) cores, kernel $(uname -r), $(qemu-img --version | head -1)."
} > "$RESULTS"
echo "wrote $RESULTS"
