# Shared helpers of the rbd tests (sourced): a Ceph cluster (CI's, named
# by $SP_CEPH_ENV, or one of our own under $T), a namespace of its own per
# test so that tests can share a cluster, and assertions.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=${SAFEPOOL_SRCDIR:-$(cd "$here/../.." && pwd)}
SAFEPOOL=${SAFEPOOL_BIN:-$SRCDIR/build/src/tools/safepool}

for p in ceph-mon ceph-osd rbd qemu-img qemu-io; do
    command -v "$p" >/dev/null || { echo "SKIP: $p not installed"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

T=$(mktemp -d /tmp/sp-rbd-test.XXXXXX)
OWN_CEPH=
cleanup_ceph() {
    if [ -n "$OWN_CEPH" ]; then
        "$SRCDIR/tools/ceph-mini" stop "$OWN_CEPH" >/dev/null 2>&1 || true
    elif [ -n "${NS:-}" ] && [ -n "${CEPH_CONF:-}" ]; then
        # our namespace of the shared cluster: every image, then itself
        for i in $(rbd -c "$CEPH_CONF" ls "rbd/$NS" 2>/dev/null); do
            rbd -c "$CEPH_CONF" snap purge "rbd/$NS/$i" >/dev/null 2>&1 || true
            rbd -c "$CEPH_CONF" rm --no-progress "rbd/$NS/$i" >/dev/null 2>&1 || true
        done
        rbd -c "$CEPH_CONF" namespace remove "rbd/$NS" >/dev/null 2>&1 || true
    fi
    rm -rf "$T"
}
trap cleanup_ceph EXIT

if [ -n "${SP_CEPH_ENV:-}" ] && [ -s "$SP_CEPH_ENV" ]; then
    # shellcheck disable=SC1090
    . "$SP_CEPH_ENV"
else
    OWN_CEPH=$T/ceph
    eval "$("$SRCDIR/tools/ceph-mini" start "$OWN_CEPH" 2>"$T/ceph-start.log")" ||
        { cat "$T/ceph-start.log" >&2; echo "FAIL: ceph-mini start"; exit 1; }
fi
export CEPH_CONF
NS=t$$x$RANDOM
rbd -c "$CEPH_CONF" namespace create "rbd/$NS"
KEY=$CEPH_USER_KEY
POOLXML=$T/pool.xml
cat >"$POOLXML" <<EOX
<pool type='rbd'>
  <name>t</name>
  <source>
    <name>rbd/$NS</name>
    <host name='$CEPH_MON_HOST' port='$CEPH_MON_PORT'/>
    <auth type='ceph' username='$CEPH_USER'><secret usage='ceph-test'/></auth>
  </source>
</pool>
EOX
POLICY=$T/policy.conf
: >"$POLICY"

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }

# sp COMMAND ARGS...: the CLI on the test's pool, the key on fd 3 (a pipe:
# never a file, never argv)
sp() {
    local cmd=$1
    shift
    "$SAFEPOOL" --config "$POLICY" "$cmd" --pool-xml "$POOLXML" --secret-fd 3 \
        "$@" 3< <(printf %s "$KEY")
}
# sp_fails EXIT PATTERN COMMAND ARGS...
sp_fails() {
    local want=$1 pat=$2 out rc=0
    shift 2
    out=$(sp "$@" 2>&1) || rc=$?
    [ "$rc" = "$want" ] || fail "safepool $*: exit $rc, expected $want ($out)"
    grep -qF -- "$pat" <<<"$out" || fail "safepool $*: '$out' lacks '$pat'"
    printf '   refused as expected (%s): %s\n' "$rc" "$out"
}
vol_xml() {  # vol_xml NAME SIZE_BYTES
    printf "<volume><name>%s</name><capacity>%s</capacity><target><format type='raw'/></target></volume>\n" "$1" "$2"
}
create() { vol_xml "$1" "$2" >"$T/v.xml"; sp vol-create "$T/v.xml" "${@:3}" >/dev/null; }
rbdc() { rbd -c "$CEPH_CONF" "$@"; }
images() { rbdc ls "rbd/$NS" | sort | tr '\n' ' '; }
# qemu-io on image $1 of our namespace, reading commands from FIFO $2
qemu_hold() {
    mkfifo "$2"
    qemu-io --object secret,id=sec0,file=/dev/fd/3,format=base64 --image-opts \
        "driver=rbd,pool=rbd,namespace=$NS,image=$1,server.0.host=$CEPH_MON_HOST,server.0.port=$CEPH_MON_PORT,user=$CEPH_USER,key-secret=sec0,conf=/dev/null" \
        3< <(printf %s "$KEY") <"$2" >"$T/qemu-io.out" 2>&1 &
    QEMU_PID=$!
    exec 7>"$2"
    # the watch is registered once qemu-io has opened the image
    for _ in $(seq 1 100); do
        rbdc status "rbd/$NS/$1" 2>/dev/null | grep -q "watcher=" && return 0
        sleep 0.1
    done
    fail "qemu-io did not open $1"
}
qemu_release() { echo quit >&7; exec 7>&-; wait "$QEMU_PID" || true; }
