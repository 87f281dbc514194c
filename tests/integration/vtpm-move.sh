# A vTPM moved from host A to host B through libvirt alone (issue 12).
# Two private libvirtds with the module play A and B, each listening on
# its own loopback TCP port (auth_tcp = "none": this test only), each
# reached as qemu+tcp://127.0.0.1:PORT/system. A's TPM is manufactured
# with swtpm_setup and given an NV index holding 32 random bytes; A saves
# it sealed into a volume of B's pool; B restores it from the volume and
# its swtpm reads the same NV bytes and endorsement key. Then the same
# with a wrong key, a flipped byte, a cut volume, an existing volume, B's
# daemon restarted mid-upload, and a key from a libvirt secret. The
# passphrase and keys are never in a /proc cmdline or environ, nor in any
# file; the plain archive is never on disk on either host.
# Run through run.sh --hosts (needs root, swtpm, tpm2-tools).
set -euo pipefail
T=${SP_TEST_TMP:?run through run.sh --hosts}
: "${SAFEPOOL_BIN:?}" "${SP_BACKENDS:?}" "${SAFEPOOL_SRCDIR:?}"
here=$SAFEPOOL_SRCDIR/tests/integration
B=$SAFEPOOL_BIN
U=3f2a9c1e-7b4d-4e8a-9d2c-5a1b6c7d8e9f
unset LIBVIRT_DEFAULT_URI
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
for t in swtpm swtpm_setup swtpm_ioctl tpm2_nvdefine tpm2_createek xxd; do
    command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

free_port() { # a free loopback port P with P+1 free too (swtpm's ctrl)
    /usr/bin/python3 -c '
import socket
while True:
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass'
}

# -- the two hosts -----------------------------------------------------------
declare -A HOST_PID URI
start_host() { # NAME: a private libvirtd with the module, on its own port
    local name=$1 port ctl=$T/ctl-$1
    port=$(free_port)
    mkdir -p "$ctl"
    "$SAFEPOOL_SRCDIR/tools/private-libvirtd" --backend-dir "$SP_BACKENDS" \
        --listen-tcp "$port" -- /bin/bash "$here/host-agent.sh" "$ctl" \
        >"$T/host-$name.log" 2>&1 &
    HOST_PID[$name]=$!
    URI[$name]=qemu+tcp://127.0.0.1:$port/system
}
wait_host() {
    local name=$1
    for _ in $(seq 1 600); do
        [ -e "$T/ctl-$name/state" ] &&
            virsh -q -c "${URI[$name]}" version >/dev/null 2>&1 && return 0
        kill -0 "${HOST_PID[$name]}" 2>/dev/null ||
            { cat "$T/host-$name.log" >&2; fail "host $name did not start"; }
        sleep 0.1
    done
    fail "host $name did not answer on ${URI[$name]}"
}
replies() { touch "$1/reply"; grep -c "^$2 " "$1/reply" || true; }
agent() { # NAME COMMAND [LINES...]: one command, wait for its reply
    local name=$1 cmd=$2 ctl=$T/ctl-$1 n
    shift 2
    n=$(replies "$ctl" "$cmd")
    printf '%s\n' "$cmd" "$@" >"$ctl/cmd"
    for _ in $(seq 1 600); do
        [ "$(replies "$ctl" "$cmd")" -gt "$n" ] && break
        sleep 0.1
    done
    [ "$(grep "^$cmd " "$ctl/reply" | tail -1)" = "$cmd 0" ] ||
        fail "host $name: $cmd failed"
}
SWTPM_PIDS=()
cleanup() { # by pid only: our swtpms, then each host's namespace
    local p h
    for p in "${SWTPM_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for h in "${!HOST_PID[@]}"; do
        # an orderly stop: the namespace's teardown stops its daemons
        [ -p "$T/ctl-$h/cmd" ] && timeout 5 sh -c "echo stop >'$T/ctl-$h/cmd'" || true
    done
    for p in "${HOST_PID[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill "$p" 2>/dev/null || continue
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT

step "host A and host B: private libvirtds on loopback TCP"
start_host A
start_host B
wait_host A
wait_host B
echo "A: ${URI[A]}  B: ${URI[B]}"
virsh -q -c "${URI[B]}" pool-define-as vtpmB dir --target "$T/poolB" >/dev/null
virsh -q -c "${URI[B]}" pool-build vtpmB >/dev/null
virsh -q -c "${URI[B]}" pool-start vtpmB >/dev/null
virsh -q -c "${URI[B]}" pool-autostart vtpmB >/dev/null

export SAFEPOOL_CONFIG=$T/safepool.conf
printf '[vtpm]\nswtpm_user=tss\nswtpm_group=tss\n' >"$SAFEPOOL_CONFIG"
ROOTA=$T/rootA ROOTB=$T/rootB
STATEA=$ROOTA/$U/tpm2 STATEB=$ROOTB/$U/tpm2
# swtpm runs as tss: it must get through $T (0700 from mktemp) to its state
chmod 0711 "$T"
mkdir -p "$T/run" && chown tss "$T/run"

# -- a TPM on A, with an NV index and an EK --------------------------------------
swtpm_start() { # STATE-DIR NAME: swtpm on free ports; sets TPM2TOOLS_TCTI
    local port
    port=$(free_port)
    swtpm socket --tpm2 --tpmstate dir="$1" --runas tss --daemon \
        --server type=tcp,port="$port",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
        --flags not-need-init,startup-clear --pid file="$T/run/$2.pid" \
        --log file="$T/run/$2.log"
    SWTPM_PIDS+=("$(cat "$T/run/$2.pid")")
    SWTPM_CTRL=$((port + 1))
    export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
}
swtpm_stop() { # NAME: orderly shutdown (the state is written), wait for it
    local pid
    pid=$(cat "$T/run/$1.pid")
    swtpm_ioctl --tcp "127.0.0.1:$SWTPM_CTRL" -s
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    fail "swtpm $1 did not stop"
}
NV=0x1500016
nv_read() { tpm2_nvread $NV -C o -s 32 | xxd -p -c 64; }

step "A: swtpm_setup --tpm2, NV index with 32 random bytes, EK public"
"$B" vtpm create --root "$ROOTA" --uuid $U >/dev/null
swtpm_setup --tpm2 --tpmstate "$STATEA" --createek --runas tss \
    --config /dev/null >"$T/run/setup-A.log" 2>&1
swtpm_start "$STATEA" A
NVHEX=$(head -c 32 /dev/urandom | xxd -p -c 64)  # in this shell only
tpm2_nvdefine $NV -C o -s 32 -a "ownerread|ownerwrite" >/dev/null
printf '%s' "$NVHEX" | xxd -r -p | tpm2_nvwrite $NV -C o -i -
[ "$(nv_read)" = "$NVHEX" ] || fail "A: NV index reads back wrong"
tpm2_createek -c "$T/run/ekA.ctx" -G rsa -u "$T/ekA.pub" >/dev/null
tpm2_readpublic -c 0x81010001 -o "$T/ekA.pem" -f pem >/dev/null
tpm2_flushcontext -t
swtpm_stop A
"$B" vtpm relabel --root "$ROOTA" --uuid $U >/dev/null   # swtpm_setup's 0640
sumA=$(sha256sum "$STATEA/tpm2-00.permall" | cut -d' ' -f1)

# Secrets of this test live in shell variables only: given to safepool on
# pipes (printf is a builtin: no argv), never exported, never in a file.
PASS=$(head -c 18 /dev/urandom | base64)
KEYHEX=$(head -c 32 /dev/urandom | xxd -p -c 64)
WRONGHEX=$(head -c 32 /dev/urandom | xxd -p -c 64)
SECRETHEX=$(head -c 32 /dev/urandom | xxd -p -c 64)
key_pipe() { printf '%s' "$1" | xxd -r -p; }
hex_of() { printf '%s' "$1" | xxd -p -c 1000; }
b64hex() { printf '%s' "$1" | xxd -r -p | base64 -w0 | xxd -p -c 1000; }
# every form a secret could take: raw, hex text, base64 text
secret_patterns() {
    hex_of "$PASS"; echo
    for k in "$KEYHEX" "$WRONGHEX" "$SECRETHEX"; do
        echo "$k"; hex_of "$k"; echo; b64hex "$k"; echo
    done
    echo end
}
# Run a stopped safepool's check: while it holds its key (SIGSTOP at
# STEP), no process's cmdline or environ holds a secret.
proc_check_at_stop() { # PID WHAT
    local pid=$1 st
    for _ in $(seq 1 600); do
        st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
        [ "$st" = T ] && break
        [ "$st" = gone ] && fail "$2: exited before its stop point"
        sleep 0.05
    done
    [ "$st" = T ] || fail "$2: never stopped"
    out=$(secret_patterns | /usr/bin/python3 "$here/find-bytes.py" --proc)
    [ -z "$out" ] || fail "$2: a secret is visible in /proc: $out"
    kill -CONT "$pid"
}

step "A: vtpm save --to-volume vtpmB/... --connect B (passphrase on a pipe)"
SAFEPOOL_VTPM_TEST_STOP_AFTER=sealed "$B" --json vtpm save --root "$ROOTA" \
    --uuid $U --passphrase-fd 3 --to-volume vtpmB/tpm-$U --connect "${URI[B]}" \
    3< <(printf '%s' "$PASS") >"$T/save.json" &
proc_check_at_stop $! "save"
wait $! || fail "save --to-volume failed"
jq -e '.sealed == true and .archive == "vtpmB/tpm-'$U'" and (.key_id | length) == 32' \
    "$T/save.json" >/dev/null || fail "save report: $(cat "$T/save.json")"
[ "$(head -c 8 "$T/poolB/tpm-$U")" = SPVTPMSE ] || fail "volume on B is not a sealed archive"
[ "$(sha256sum "$STATEA/tpm2-00.permall" | cut -d' ' -f1)" = "$sumA" ] || fail "save changed A's state"

step "B: vtpm restore --from-volume (same passphrase); the volume is wiped and deleted"
SAFEPOOL_VTPM_TEST_STOP_AFTER=unsealed "$B" vtpm restore --root "$ROOTB" \
    --passphrase-fd 3 --from-volume vtpmB/tpm-$U --connect "${URI[B]}" \
    3< <(printf '%s' "$PASS") &
proc_check_at_stop $! "restore"
wait $! || fail "restore --from-volume failed"
virsh -q -c "${URI[B]}" vol-info --pool vtpmB tpm-$U >/dev/null 2>&1 &&
    fail "the volume is still on B"
[ ! -e "$T/poolB/tpm-$U" ] || fail "the volume's file is still in B's pool"
[ "$(sha256sum "$STATEB/tpm2-00.permall" | cut -d' ' -f1)" = "$sumA" ] ||
    fail "B's state differs from A's"
[ "$(stat -c '%U:%G %a' "$STATEB" "$STATEB/tpm2-00.permall" | tr '\n' ' ')" = \
  "tss:tss 700 tss:tss 600 " ] || fail "B's state owner/mode"
"$B" vtpm verify --root "$ROOTB" --uuid $U >/dev/null || fail "B's state does not verify"

step "B: swtpm on the restored state: NV bytes and EK public are A's"
swtpm_start "$STATEB" B
[ "$(nv_read)" = "$NVHEX" ] || fail "B reads other NV bytes than A wrote"
tpm2_createek -c "$T/run/ekB.ctx" -G rsa -u "$T/ekB.pub" >/dev/null
tpm2_readpublic -c 0x81010001 -o "$T/ekB.pem" -f pem >/dev/null
tpm2_flushcontext -t
swtpm_stop B
cmp "$T/ekA.pub" "$T/ekB.pub" || fail "EK public (createek) differs"
cmp "$T/ekA.pem" "$T/ekB.pem" || fail "persistent EK 0x81010001 differs"
# control: a TPM manufactured anew has another EK, so the match above means something
mkdir -p "$T/fresh" && chown tss:tss "$T/fresh" && chmod 700 "$T/fresh"
swtpm_setup --tpm2 --tpmstate "$T/fresh" --createek --runas tss --config /dev/null >/dev/null 2>&1
swtpm_start "$T/fresh" fresh
tpm2_createek -c "$T/run/ekF.ctx" -G rsa -u "$T/ekF.pub" >/dev/null
tpm2_flushcontext -t
swtpm_stop fresh
cmp -s "$T/ekA.pub" "$T/ekF.pub" && fail "control: a fresh TPM has A's EK"
rm -rf "$T/fresh"

# -- refusals: B's root must not change ----------------------------------------
snapshot() {
    (cd "$1" && find . -printf '%p %s %m %U %T@\n' | sort &&
     getfattr -R -d -m - . 2>/dev/null && find . -type f -exec sha256sum {} + | sort) | md5sum
}
save_key() { # VOLUME: a sealed save from A into B's pool, key on fd 3
    "$B" vtpm save --root "$ROOTA" --uuid $U --key-fd 3 --to-volume "vtpmB/$1" \
        --connect "${URI[B]}" 3< <(key_pipe "$KEYHEX") >/dev/null
}
restore_refused() { # VOLUME HEX NEEDLE: exit 1, NEEDLE said, root unchanged, volume kept
    local rc=0 before
    before=$(snapshot "$ROOTB")
    "$B" vtpm restore --root "$ROOTB" --key-fd 3 --from-volume "vtpmB/$1" \
        --connect "${URI[B]}" 3< <(key_pipe "$2") 2>"$T/err" || rc=$?
    [ "$rc" = 1 ] || fail "restore of $1: exit $rc, want 1: $(cat "$T/err")"
    grep -qF -- "$3" "$T/err" || fail "restore of $1: '$(cat "$T/err")' lacks '$3'"
    [ "$(snapshot "$ROOTB")" = "$before" ] || fail "restore of $1 changed B's root"
    virsh -q -c "${URI[B]}" vol-info --pool vtpmB "$1" >/dev/null ||
        fail "a refused volume $1 was deleted"
    echo "   refused: $(cat "$T/err")"
}
step "refused: a wrong key, a flipped byte, a cut volume; B's root unchanged"
for v in wrong flip cut; do save_key "v-$v"; done
restore_refused v-wrong "$WRONGHEX" "sealed with key id"
/usr/bin/python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(700); b = f.read(1); f.seek(700); f.write(bytes([b[0] ^ 0x10]))' "$T/poolB/v-flip"
restore_refused v-flip "$KEYHEX" "fails authentication"
truncate -s -100 "$T/poolB/v-cut"
restore_refused v-cut "$KEYHEX" "truncated"
restore_refused v-cut "$KEYHEX" "truncated"   # and again: nothing was consumed

step "refused before a byte is read: a volume larger than any archive can be"
virsh -q -c "${URI[B]}" vol-create-as vtpmB v-huge 200M --allocation 0 --format raw >/dev/null
restore_refused v-huge "$KEYHEX" "bytes, more than an archive"

step "refused: save over an existing volume (exit 4, the volume untouched)"
sum=$(sha256sum "$T/poolB/v-wrong" | cut -d' ' -f1)
rc=0; save_key v-wrong 2>"$T/err" || rc=$?
[ "$rc" = 4 ] || fail "save over an existing volume: exit $rc"
grep -q "exists" "$T/err" || fail "message: $(cat "$T/err")"
[ "$(sha256sum "$T/poolB/v-wrong" | cut -d' ' -f1)" = "$sum" ] || fail "existing volume changed"

step "B's daemon restarted in the middle of an upload"
SAFEPOOL_VTPM_TEST_STOP_AFTER=volume-created "$B" vtpm save --root "$ROOTA" \
    --uuid $U --key-fd 3 --to-volume vtpmB/v-restart --connect "${URI[B]}" \
    3< <(key_pipe "$KEYHEX") 2>"$T/err" &
pid=$!
for _ in $(seq 1 200); do
    [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = T ] && break; sleep 0.05
done
agent B restart
kill -CONT $pid
rc=0; wait $pid || rc=$?
[ "$rc" = 3 ] || fail "interrupted save: exit $rc, want 3: $(cat "$T/err")"
echo "   failed as it should: $(cat "$T/err")"
wait_host B
before=$(snapshot "$ROOTB")
rc=0
"$B" vtpm restore --root "$ROOTB" --key-fd 3 --from-volume vtpmB/v-restart \
    --connect "${URI[B]}" 3< <(key_pipe "$KEYHEX") 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "restore from the interrupted volume: exit $rc: $(cat "$T/err")"
[ "$(snapshot "$ROOTB")" = "$before" ] || fail "B's root changed"
echo "   restore from what is left: $(cat "$T/err")"
virsh -q -c "${URI[B]}" vol-delete --pool vtpmB v-restart >/dev/null 2>&1 || true

step "a key from a libvirt secret on B (--secret UUID --connect B)"
SECRET=$(key_pipe "$SECRETHEX" | /usr/bin/python3 -c '
import libvirt, sys
c = libvirt.open(sys.argv[1])
s = c.secretDefineXML("<secret ephemeral=\"yes\" private=\"no\"/>")
s.setValue(sys.stdin.buffer.read())
print(s.UUIDString())' "${URI[B]}")
"$B" vtpm save --root "$ROOTA" --uuid $U --secret "$SECRET" \
    --to-volume vtpmB/v-secret --connect "${URI[B]}" >/dev/null
rc=0
"$B" vtpm restore --root "$ROOTB" --key-fd 3 --from-volume vtpmB/v-secret \
    --connect "${URI[B]}" 3< <(key_pipe "$KEYHEX") 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "a --key-fd key opened a --secret archive"
"$B" vtpm restore --root "$ROOTB" --secret "$SECRET" --keep-volume \
    --from-volume vtpmB/v-secret --connect "${URI[B]}" >/dev/null
virsh -q -c "${URI[B]}" vol-info --pool vtpmB v-secret >/dev/null || fail "--keep-volume deleted it"
[ "$(sha256sum "$STATEB/tpm2-00.permall" | cut -d' ' -f1)" = "$sumA" ] || fail "B's state after --secret"

step "no secret in any file, no plain archive on disk on either host"
# the NV bytes are in both TPM states (swtpm keeps them plain) and
# nowhere else; no MANIFEST.json (the plain archive's first entry)
nvpat() { echo "$NVHEX"; hex_of MANIFEST.json; echo; echo end; }
found=$( (nvpat | /usr/bin/python3 "$here/find-bytes.py" "$T"; secret_patterns |
          /usr/bin/python3 "$here/find-bytes.py" "$T") | sort)
want=$(printf 'file %s 0\nfile %s 0\n' "$STATEA/tpm2-00.permall" "$STATEB/tpm2-00.permall" | sort)
[ "$found" = "$want" ] || fail "unexpected matches under $T: $found"
for h in A B; do
    agent $h scan "$NVHEX" "$(hex_of MANIFEST.json)" end
    [ ! -s "$T/ctl-$h/scan.out" ] || fail "host $h: $(cat "$T/ctl-$h/scan.out")"
    agent $h scan $(secret_patterns | grep -v '^end$') end
    [ ! -s "$T/ctl-$h/scan.out" ] || fail "host $h: a secret in a file: $(cat "$T/ctl-$h/scan.out")"
done
echo "vtpm-move: ok"
