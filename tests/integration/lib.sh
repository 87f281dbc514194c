# Shared helpers of the shell integration tests (sourced).
set -euo pipefail
export LIBVIRT_DEFAULT_URI=qemu:///system
T=${SP_TEST_TMP:?run through run.sh}
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
# virsh_fails PATTERN virsh-args...: the command must fail and its error
# output must contain PATTERN (libvirt's text for the error code + message).
virsh_fails() {
    local pat=$1 out
    shift
    if out=$(virsh "$@" 2>&1); then
        fail "virsh $* succeeded, expected failure matching '$pat'"
    fi
    grep -qF -- "$pat" <<<"$out" ||
        fail "virsh $*: error '$out' does not contain '$pat'"
    printf '   refused as expected: %s\n' "$(printf '%s' "$out" | grep -v '^$' | tail -1)"
}
qinfo() { qemu-img info --output=json -f "$2" "$1" | jq -r "$3"; }
perms() { stat -c '%a %U %G' "$1"; }
# A listing of DIR (names, sizes, modes, xattrs) to prove nothing changed.
snapshot() {
    (cd "$1" && find . -printf '%p %s %m %U\n' | sort &&
     getfattr -R -d -m - . 2>/dev/null) | md5sum
}
# (no "| head" under pipefail: an early-exiting reader SIGPIPEs the writer)
vol_format() {
    local xml
    xml=$(virsh vol-dumpxml --pool "$1" "$2")
    sed -n "s/.*<format type='\([a-z0-9]*\)'.*/\1/p;T;q" <<<"$xml"
}
# An fs pool on a loop-mounted ext4 image, through the stock fs backend:
# start (mount), create, list, delete, stop (umount).
fs_pool_check() {
    local img=$T/ext4.img dir=$T/fsmnt loop
    truncate -s 64M "$img"
    mkfs.ext4 -q -F "$img"
    mkdir -p "$dir"
    # a loop device, not the file: libvirt matches the mounted source by
    # name to decide whether to unmount on pool-destroy
    loop=$(losetup -f --show "$img")
    trap "umount '$dir' 2>/dev/null; losetup -d '$loop' 2>/dev/null" EXIT
    virsh -q pool-define-as fsp fs --source-dev "$loop" --target "$dir" \
        --source-format ext4
    virsh -q pool-start fsp
    mountpoint -q "$dir" && [ "$(findmnt -n -o FSTYPE --mountpoint "$dir")" = ext4 ] ||
        fail "fs pool not mounted"
    virsh -q vol-create-as fsp f.qcow2 16M --format qcow2
    expect_eq "$(qinfo "$dir/f.qcow2" qcow2 .format)" qcow2 "fs pool volume"
    grep -q f.qcow2 <<<"$(virsh -q vol-list fsp)" || fail "fs pool volume not listed"
    # the stock fs backend writes no safepool xattr
    getfattr -n user.safepool.format "$dir/f.qcow2" >/dev/null 2>&1 &&
        fail "fs pool volume went through safepool"
    virsh -q vol-delete --pool fsp f.qcow2
    virsh -q pool-destroy fsp
    mountpoint -q "$dir" && fail "fs pool still mounted"
    virsh -q pool-undefine fsp
    losetup -d "$loop"
    trap - EXIT
}
