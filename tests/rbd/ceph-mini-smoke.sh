#!/bin/bash
# Smoke test of tools/ceph-mini: start a cluster in a temporary dir, create,
# write and read images with the rbd CLI and with qemu-img/qemu-io (client
# libvirt, key passed as a secret object read from /dev/fd/3, never on the
# command line), stop it, check no daemon is left, print timings.
#
#   tests/rbd/ceph-mini-smoke.sh [--parallel] [-- START-OPTIONS...]
#
# --parallel starts two clusters at once and runs the checks on both.
# START-OPTIONS go to `ceph-mini start` (--mgr, --memstore).
# Needs root and the packages ceph-mon ceph-osd ceph-common qemu-utils
# qemu-block-extra (ceph-mgr for --mgr); exits 77 (skip) without them.
# Ends with "N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CEPH_MINI=$(cd "$here/../.." && pwd)/tools/ceph-mini

parallel=0
start_opts=()
while [ $# -gt 0 ]; do
    case "$1" in
    --parallel) parallel=1 ;;
    --) shift; start_opts=("$@"); break ;;
    *) echo "usage: $0 [--parallel] [-- START-OPTIONS...]" >&2; exit 2 ;;
    esac
    shift
done

for p in ceph-mon ceph-osd rbd qemu-img qemu-io; do
    command -v "$p" >/dev/null || { echo "SKIP: $p not installed"; exit 77; }
done
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so ] ||
    { echo "SKIP: qemu-block-extra not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

passed=0 failed=0
ok()   { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() {  # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

TMP=$(mktemp -d /tmp/ceph-mini-smoke.XXXXXX)
CLUSTERS=()
cleanup() {
    local d
    for d in "${CLUSTERS[@]}"; do
        "$CEPH_MINI" stop "$d" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# Every process whose command line names dir $1, zombies excepted.
leftovers() {
    local p st
    for p in /proc/[0-9]*; do
        grep -qF "$1" "$p/cmdline" 2>/dev/null || continue
        st=$(awk '/^State:/ { print $2 }' "$p/status" 2>/dev/null) || continue
        [ -n "$st" ] && [ "$st" != Z ] && echo "${p#/proc/}"
    done
    return 0
}

# The key goes to qemu through fd 3 only (format=base64: the file holds the
# key as ceph prints it; qemu would otherwise take those characters as the
# raw key and fail with "error connecting: Invalid argument").
qemu_key() { printf %s "$CEPH_USER_KEY"; }

# conf=/dev/null: without a conf option qemu reads /etc/ceph/ceph.conf,
# ~/.ceph/ceph.conf and ./ceph.conf (the current directory!) and then the
# keyring that one names.
image_opts() {  # image_opts IMAGE
    echo "driver=rbd,pool=rbd,image=$1,server.0.host=$CEPH_MON_HOST,server.0.port=$CEPH_MON_PORT,user=libvirt,key-secret=sec0,conf=/dev/null"
}

# rbd as client.libvirt (its keyring is found through the conf's $name)
c_rbd() { rbd -c "$CEPH_CONF" --id libvirt "$@"; }

# export_matches IMAGE FILE: the image's first bytes are FILE's
export_matches() {
    local out=$TMP/export.out rc=0
    c_rbd export --no-progress "$1" "$out" >/dev/null 2>&1 || return 1
    cmp -s -n "$(stat -c %s "$2")" "$out" "$2" || rc=1
    rm -f "$out"
    return "$rc"
}

lists_images() {  # lists_images POOL NAMES...: exactly those images
    local pool=$1; shift
    [ "$(c_rbd ls "$pool" | sort | tr '\n' ' ')" = "$* " ]
}

quiet() { "$@" >/dev/null 2>&1; }
fails() { ! "$@" >/dev/null 2>&1; }
output_has() {  # output_has TEXT COMMAND...
    local text=$1; shift
    "$@" 2>&1 | grep -qF "$text"
}

# Run the image checks against the cluster in dir $1.
exercise() {
    local dir=$1 t data
    eval "$("$CEPH_MINI" env "$dir")"
    data=$TMP/$(basename "$dir").data
    head -c 8M /dev/urandom >"$data"

    t=$(now)
    check "rbd create" c_rbd create --size 64M rbd/cli-img
    check "rbd import" quiet c_rbd import --no-progress "$data" rbd/cli-imported
    check "rbd export matches" export_matches rbd/cli-imported "$data"
    check "rbd create in pool rbd2" c_rbd create --size 16M rbd2/img2
    check "rbd bench write" quiet c_rbd bench \
        --io-type write --io-size 64K --io-total 4M rbd/cli-img
    echo "  rbd CLI checks: $(since "$t") s"

    # qemu-img create: the legacy filename with password-secret, no conf
    t=$(now)
    check "qemu-img create (rbd: filename, password-secret)" \
        env -u CEPH_CONF qemu-img create -q -f raw \
        --object secret,id=sec0,file=/dev/fd/3,format=base64 \
        -o password-secret=sec0 \
        "rbd:rbd/qemu-img:id=libvirt:mon_host=$CEPH_MON_HOST\\:$CEPH_MON_PORT:client_mount_timeout=10:conf=/dev/null" \
        32M 3< <(qemu_key)
    check "qemu-img info (--image-opts, key-secret)" \
        output_has "virtual size: 32 MiB" env -u CEPH_CONF qemu-img info \
        --object secret,id=sec0,file=/dev/fd/3,format=base64 \
        --image-opts "$(image_opts qemu-img)" 3< <(qemu_key)
    check "qemu-img convert into it (--target-image-opts)" \
        env -u CEPH_CONF qemu-img convert -n -f raw "$data" \
        --object secret,id=sec0,file=/dev/fd/3,format=base64 \
        --target-image-opts "$(image_opts qemu-img)" 3< <(qemu_key)
    check "qemu-io reads back what was written" \
        output_has "read 1048576/1048576" env -u CEPH_CONF qemu-io \
        --object secret,id=sec0,file=/dev/fd/3,format=base64 \
        --image-opts "$(image_opts qemu-img)" \
        -c "write -P 0x5a 16M 1M" -c "read -P 0x5a 16M 1M" 3< <(qemu_key)
    check "rbd export sees qemu's data" export_matches rbd/qemu-img "$data"
    rm -f "$data"
    check "rbd ls lists all images" lists_images rbd cli-img cli-imported qemu-img
    echo "  qemu checks: $(since "$t") s"
}

start_cluster() {  # start_cluster DIR: prints the seconds it took
    local t rc=0
    t=$(now)
    "$CEPH_MINI" start "$1" "${start_opts[@]}" >"$1.env" 2>"$1.log" || rc=$?
    since "$t"
    return "$rc"
}

dirs=("$TMP/c1")
[ "$parallel" = 1 ] && dirs+=("$TMP/c2")
CLUSTERS=("${dirs[@]}")

declare -A start_time
if [ "$parallel" = 1 ]; then
    start_cluster "${dirs[0]}" >"$TMP/t1" & p1=$!
    start_cluster "${dirs[1]}" >"$TMP/t2" & p2=$!
    rc1=0 rc2=0
    wait "$p1" || rc1=$?
    wait "$p2" || rc2=$?
    start_time[${dirs[0]}]=$(cat "$TMP/t1")
    start_time[${dirs[1]}]=$(cat "$TMP/t2")
    check "cluster 1 started" [ "$rc1" = 0 ]
    check "cluster 2 started" [ "$rc2" = 0 ]
else
    rc=0
    start_time[${dirs[0]}]=$(start_cluster "${dirs[0]}") || rc=$?
    check "cluster started" [ "$rc" = 0 ]
fi
for d in "${dirs[@]}"; do
    [ -s "$d.env" ] || { cat "$d.log" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
    echo "$(basename "$d"): ready in ${start_time[$d]} s ($(grep -o 'mon up on [^ ]*' "$d.log"))"
done
if [ "$parallel" = 1 ]; then
    check "the clusters have different fsids" [ \
        "$(grep '^fsid' "${dirs[0]}/ceph.conf")" != "$(grep '^fsid' "${dirs[1]}/ceph.conf")" ]
fi

for d in "${dirs[@]}"; do
    check "$(basename "$d"): status says healthy" "$CEPH_MINI" status "$d"
    exercise "$d"
done
if [ "$parallel" = 1 ]; then
    # each cluster sees only its own images
    eval "$("$CEPH_MINI" env "${dirs[0]}")"
    check "cluster 1 sees only its own images" lists_images rbd2 img2
    c_rbd create --size 1M rbd2/only-in-1
    eval "$("$CEPH_MINI" env "${dirs[1]}")"
    check "cluster 2 does not see cluster 1's image" lists_images rbd2 img2
fi

# RSS of the daemons, disk used
for d in "${dirs[@]}"; do
    rss=0
    for f in "$d"/run/*.child; do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$f")/status" 2>/dev/null || echo 0)
        echo "  $(basename "$d") $(basename "$f" .child): RSS $((kb / 1024)) MB"
        rss=$((rss + kb))
    done
    echo "$(basename "$d"): daemons' RSS $((rss / 1024)) MB, disk used $(du -sh "$d" | cut -f1) (apparent $(du -sh --apparent-size "$d" | cut -f1))"
done

for d in "${dirs[@]}"; do
    t=$(now)
    check "$(basename "$d"): stop" "$CEPH_MINI" stop "$d"
    echo "$(basename "$d"): stopped in $(since "$t") s"
    check "$(basename "$d"): status fails once stopped" \
        fails "$CEPH_MINI" status "$d"
    check "$(basename "$d"): no process left" [ -z "$(leftovers "$d/")" ]
    check "$(basename "$d"): no pid file left" \
        [ -z "$(find "$d/run" -name '*.pid' -o -name '*.child')" ]
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
