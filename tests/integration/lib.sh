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
    printf '%s\n' "$out" | grep -qF -- "$pat" ||
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
vol_format() { virsh vol-dumpxml --pool "$1" "$2" | sed -n "s/.*<format type='\([a-z0-9]*\)'.*/\1/p" | head -1; }
