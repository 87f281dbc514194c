# Inside tools/private-libvirtd (package install.sh): the installed
# packages serve a dir pool; purged, the stock backend does.
#   session.sh WORKDIR BACKEND_DIR SRCDIR
set -euo pipefail
T=$1 backend_dir=$2 src=$3
P=$T/pool
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
daemon_env() { tr '\0' '\n' <"/proc/$(cat /run/libvirt/libvirtd.pid)/environ"; }

[ "$(daemon_env | sed -n 's/^LIBVIRT_STORAGE_BACKEND_DIR=//p')" = "$backend_dir" ] ||
    fail "libvirtd's environment: $(daemon_env | paste -sd' ')"
step "a volume through virsh, served by safepool"
virsh -q pool-define-as pk dir --target "$P"
virsh -q pool-build pk
virsh -q pool-start pk
virsh -q vol-create-as pk v.qcow2 1M --format qcow2
[ "$(getfattr --only-values -n user.safepool.format "$P/v.qcow2")" = qcow2 ] ||
    fail "no user.safepool.format on the volume"
virsh -q vol-create-as pk 'a,b' 1M 2>/dev/null && fail "a name with ',' was accepted"

step "safepool status against that daemon"
out=$(/usr/bin/safepool status) || { echo "$out"; fail "status: exit $?"; }
echo "$out"
grep -qx "ok: LIBVIRT_STORAGE_BACKEND_DIR=$backend_dir (safepool's)" <<<"$out" || fail "backend dir"
grep -q "^ok: module $backend_dir/libvirt_storage_backend_fs.so: safepool" <<<"$out" || fail "module"
grep -q "^ok: pool 'pk' (dir, $P): served by safepool" <<<"$out" || fail "pool"

step "apt-get purge"
apt-get purge -y -q safepool libvirt-daemon-driver-storage-safepool
[ ! -e "$P/.safepool.lock" ] || fail "the pool's lock file is left"
[ ! -e /usr/bin/safepool ] && [ ! -e /etc/safepool ] && [ ! -e "$backend_dir" ] ||
    fail "files left after purge"

step "a new daemon, with the environment systemd now gives it, serves the pool with the stock backend"
PRIVATE_LIBVIRTD_ENV= "$src/tools/private-libvirtd" --restart
daemon_env | grep -q LIBVIRT_STORAGE_BACKEND_DIR && fail "backend dir still set"
grep -q safepool "/proc/$(cat /run/libvirt/libvirtd.pid)/maps" && fail "a safepool module is loaded"
[ "$(virsh -q vol-list pk | awk '{print $1}' | paste -sd' ')" = v.qcow2 ] ||
    fail "stock vol-list: $(virsh -q vol-list pk)"
virsh -q vol-create-as pk w.raw 1M --format raw
getfattr -n user.safepool.format "$P/w.raw" >/dev/null 2>&1 &&
    fail "the new volume went through safepool"
echo "session PASS"
