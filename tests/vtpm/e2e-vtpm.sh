#!/bin/bash
# End to end with the real stack: a private libvirtd starts a TCG domain
# with an emulated TPM (libvirt + swtpm create the state), then safepool
# lists, refuses to delete/save it while it runs, saves it, the state is
# wiped, restored, and the domain starts again from the restored state.
set -euo pipefail

: "${SAFEPOOL_BIN:?}" "${SAFEPOOL_SRCDIR:?}"
if [ "${1:-}" != --inside ]; then
    exec "$SAFEPOOL_SRCDIR/tools/private-libvirtd" -- "$0" --inside
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
B=$SAFEPOOL_BIN
URI=qemu:///system
NAME=sp-vtpm-e2e
UUID=5a0d7c52-3c4e-4d1b-9f6e-2d1f0c9b7a11
ROOT=/var/lib/libvirt/swtpm
STATE=$ROOT/$UUID/tpm2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset SAFEPOOL_CONFIG # the private qemu.conf names swtpm_user/group = tss
head -c 32 /dev/urandom >"$work/key"

cat >"$work/dom.xml" <<EOX
<domain type='qemu'>
  <name>$NAME</name>
  <uuid>$UUID</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <serial type='pty'/>
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
  </devices>
</domain>
EOX

expect_rc() { # expect_rc WANT CMD...
    local want=$1 rc=0; shift
    "$@" >"$work/out" 2>"$work/err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$work/out" "$work/err" >&2; fail "exit $rc, want $want: $*"; }
}

wait_file() {
    for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.1; done
    fail "$1 did not appear"
}

virsh -q -c $URI define "$work/dom.xml" >/dev/null
if ! virsh -q -c $URI start $NAME >"$work/start.log" 2>&1; then
    cat "$work/start.log" /var/log/swtpm/libvirt/qemu/$NAME-swtpm.log >&2 || true
    fail "domain did not start"
fi
wait_file "$STATE/tpm2-00.permall"

# list sees it, with the name from libvirt; ownership as libvirt made it
expect_rc 0 "$B" --json vtpm list --connect $URI
jq -e --arg u $UUID --arg n $NAME \
   '.states[] | select(.uuid == $u and .name == $n and .tpm_dir == "tpm2" and .mode == "0700")' \
   "$work/out" >/dev/null || { cat "$work/out"; fail "list does not show the domain"; }
expect_rc 0 "$B" --json vtpm list --root $ROOT --connect $URI --domain $NAME
jq -e --arg u $UUID '.states | length == 1 and .[0].uuid == $u and .[0].matches_policy' \
   "$work/out" >/dev/null || { cat "$work/out"; fail "list --domain"; }
expect_rc 0 "$B" vtpm verify --connect $URI --domain $UUID

# refused while it runs
expect_rc 4 "$B" vtpm delete --connect $URI --domain $NAME
grep -q "domain '$NAME' is running" "$work/err" || fail "delete message: $(cat "$work/err")"
expect_rc 4 "$B" vtpm save --connect $URI --domain $NAME --key-file "$work/key" --output "$work/live.tar"
grep -q "in use by a running swtpm" "$work/err" || fail "save message: $(cat "$work/err")"
expect_rc 4 "$B" vtpm delete --connect $URI --uuid $UUID
expect_rc 4 "$B" vtpm delete --force --uuid $UUID
[ -e "$STATE/tpm2-00.permall" ] || fail "state gone after refused delete"

virsh -q -c $URI destroy $NAME >/dev/null
sum_before=$(sha256sum "$STATE/tpm2-00.permall" | cut -d' ' -f1)
expect_rc 0 "$B" vtpm save --connect $URI --domain $NAME --key-file "$work/key" --output "$work/s.tar"
[ "$(sha256sum "$STATE/tpm2-00.permall" | cut -d' ' -f1)" = "$sum_before" ] || fail "save changed the state"

# wipe, restore, start again
expect_rc 0 "$B" vtpm delete --connect $URI --domain $NAME
[ ! -e "$ROOT/$UUID" ] || fail "delete left $ROOT/$UUID"
expect_rc 0 "$B" vtpm restore --connect $URI --domain $NAME --key-file "$work/key" --input "$work/s.tar"
[ "$(sha256sum "$STATE/tpm2-00.permall" | cut -d' ' -f1)" = "$sum_before" ] || fail "restored content differs"
[ "$(stat -c '%U:%G %a' "$STATE")" = "tss:tss 700" ] || fail "state dir $(stat -c '%U:%G %a' "$STATE")"
[ "$(stat -c '%U:%G %a' "$STATE/tpm2-00.permall")" = "tss:tss 600" ] || fail "permall perms"
[ "$(stat -c '%U:%G %a' "$ROOT/$UUID")" = "root:root 711" ] || fail "uuid dir perms"
SWLOG=/var/log/swtpm/libvirt/qemu/$NAME-swtpm.log
made=$(grep -c "Starting vTPM manufacturing" "$SWLOG")
[ "$made" = 1 ] || fail "expected one manufacturing in $SWLOG, got $made"

if ! virsh -q -c $URI start $NAME >"$work/start.log" 2>&1; then
    cat "$work/start.log" >&2
    fail "domain did not start from the restored state"
fi
sleep 1
[ "$(virsh -q -c $URI domstate $NAME)" = running ] || fail "domain not running"
expect_rc 4 "$B" vtpm restore --connect $URI --domain $NAME --key-file "$work/key" --input "$work/s.tar"
# swtpm accepted the restored state: libvirt ran no new manufacturing
[ "$(grep -c "Starting vTPM manufacturing" "$SWLOG")" = "$made" ] || \
    fail "libvirt re-manufactured the TPM instead of using the restored state"
pgrep -u tss -f "swtpm socket.*$UUID" >/dev/null || fail "no swtpm running for $UUID"
virsh -q -c $URI destroy $NAME >/dev/null
echo "e2e-vtpm: ok"
