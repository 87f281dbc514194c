# A module built for another libvirt version (1.0.0): libvirtd stays up,
# dir pools are unavailable with the logged reason, fs pools work.
. "$(dirname "$0")/lib.sh"
reason="built for libvirt 1.0.0"
step "libvirtd is up and logged why"
virsh -q version >/dev/null || fail "libvirtd not answering"
grep -m1 -F "$reason" /var/log/libvirt/libvirtd.log
[ "$(grep -cF "module built for libvirt 1.0.0 but libvirtd is 9.0.0" /var/log/libvirt/libvirtd.log)" = 1 ] ||
    fail "expected exactly one log line naming both versions"
step "dir pools are unavailable, with the reason"
virsh -q pool-define-as wd dir --target "$T/dirpool"
virsh_fails "$reason" pool-build wd
mkdir -p "$T/dirpool"
virsh_fails "$reason" pool-start wd
grep -q "wd *inactive" <<<"$(virsh -q pool-list --all)" || fail "dir pool became active"
[ -z "$(ls -A "$T/dirpool")" ] || fail "something was written into the dir pool"
step "safepool status names the mismatch"
out=$("$SAFEPOOL_BIN" status) && fail "status exit 0 with a module built for 1.0.0"
grep -q "^problem: module .*/libvirt_storage_backend_fs.so: built for libvirt 1.0.0, libvirtd runs 9.0.0" <<<"$out" ||
    fail "status did not name the versions: $out"
step "fs pools work through the stock module"
fs_pool_check
virsh -q version >/dev/null || fail "libvirtd died"
echo PASS
