# `safepool status` against a private libvirtd (found from inside its pid
# and mount namespace): all well; each thing that can be wrong, one at a
# time, gives exit 1 and the line naming it; put right, exit 0 again.
. "$(dirname "$0")/lib.sh"
SP=${SAFEPOOL_BIN:?}
P=$T/pool
status_ok() {
    local out
    out=$("$SP" status) || { printf '%s\n' "$out" >&2; fail "status: exit $?, expected 0"; }
    printf '%s\n' "$out"
    grep -q '^problem:' <<<"$out" && fail "status exit 0 with a problem line"
    return 0
}
status_fails() {  # status_fails PATTERN [safepool global options]
    local pat=$1 out rc=0
    shift
    out=$("$SP" "$@" status) || rc=$?
    printf '%s\n' "$out"
    expect_eq "$rc" 1 "status exit with '$pat'"
    grep -q "^problem: .*$pat" <<<"$out" || fail "no problem line matching '$pat'"
}

virsh -q pool-define-as sp dir --target "$P"
virsh -q pool-build sp
virsh -q pool-start sp
virsh -q vol-create-as sp a.qcow2 1M --format qcow2

step "all well: the daemon, its backend dir, the module, the pool, the sandbox"
out=$(status_ok)
grep -q "^ok: libvirtd (pid $(cat /run/libvirt/libvirtd.pid)) serves libvirt storage" <<<"$out" ||
    fail "daemon not found by its pid"
grep -q "^note: LIBVIRT_STORAGE_BACKEND_DIR=$T/backends, not the installed" <<<"$out" ||
    fail "backend dir of the environment not reported"
grep -q "^ok: module $T/backends/libvirt_storage_backend_fs.so: safepool .* for libvirt 9.0.0, serves dir" <<<"$out" ||
    fail "module not reported"
grep -q "^ok: pool 'sp' (dir, $P): served by safepool" <<<"$out" || fail "pool not reported"
json=$("$SP" --json status)
expect_eq "$(jq -r .ok <<<"$json")" true "--json ok"
expect_eq "$(jq -r .daemon.name <<<"$json")" libvirtd "--json daemon"
expect_eq "$(jq -r '.pools[0].safepool' <<<"$json")" true "--json pool served"
expect_eq "$(jq -r '.pools[0].volumes' <<<"$json")" 1 "--json pool volumes"
expect_eq "$(jq -r '[.modules[] | select(.safepool)][0].built_for_libvirt' <<<"$json")" 9.0.0 "--json built for"

step "a stale temporary, then refreshed away"
: >"$P/.safepool-tmp-crashed"
status_fails "pool 'sp': 1 stale temporary"
virsh -q pool-refresh sp
status_ok >/dev/null

step "a file of unknown format, then adopted"
qemu-img create -q -f qcow2 "$P/byhand.qcow2" 1M
status_fails "pool 'sp': 1 volume of unknown format"
"$SP" vol-adopt --pool-dir "$P" --format qcow2 byhand.qcow2 >/dev/null
status_ok >/dev/null

step "a policy that turns the sandbox off"
printf '[qemu-img]\nsandbox=false\n' >"$T/nosandbox.conf"
status_fails "qemu-img runs unconfined" --config "$T/nosandbox.conf"

step "the daemon without the backend dir: stock backends"
PRIVATE_LIBVIRTD_BACKEND_DIR= "$SAFEPOOL_SRCDIR/tools/private-libvirtd" --restart
out=$("$SP" status) && fail "status exit 0 with the stock backends"
grep -q "^problem: libvirtd's environment has no LIBVIRT_STORAGE_BACKEND_DIR" <<<"$out" || fail "env not reported: $out"
grep -q "^problem: libvirtd (pid .*) has loaded no safepool module" <<<"$out" || fail "modules not reported: $out"
grep -q "^problem: pool 'sp' (dir): served by libvirt's stock dir backend" <<<"$out" || fail "pool not reported: $out"

step "no daemon at all"
kill "$(cat /run/libvirt/libvirtd.pid)"
for _ in $(seq 50); do virsh -q version >/dev/null 2>&1 || break; sleep 0.1; done
status_fails "no libvirt storage daemon"
expect_eq "$("$SP" --json status | jq -r .daemon)" null "--json daemon"
"$SAFEPOOL_SRCDIR/tools/private-libvirtd" --restart
echo PASS
