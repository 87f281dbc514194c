#!/bin/bash
# The Debian packages as an operator gets them: installed with apt-get from
# the .debs in $SAFEPOOL_DEBS (tools/build-debs), a private libvirtd started
# with only the environment the installed drop-in sets, a volume that
# safepool serves, `safepool status` against that daemon; then purged, a
# new daemon serves the pool with the stock backend, and nothing of
# safepool is left. All in a private mount namespace whose /usr, /etc and
# /var are overlays with tmpfs upper layers: the host is untouched, and
# after the purge the upper layers hold exactly what the packages left.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${SAFEPOOL_SRCDIR:-$(cd "$here/../.." && pwd)}
debs=${SAFEPOOL_DEBS:-}
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" != --inner ]; then
    [ -n "$debs" ] || { echo "SAFEPOOL_DEBS is not set (tools/build-debs DIR): skipped"; exit 77; }
    [ "$(id -u)" = 0 ] || { echo "needs root: skipped"; exit 77; }
    exec unshare --mount --propagation private -- /bin/bash "$0" --inner
fi

ls "$debs"/safepool_*.deb "$debs"/libvirt-daemon-driver-storage-safepool_*.deb >/dev/null ||
    fail "no .debs in $debs"
stage=$(mktemp -d /tmp/sp-package.XXXXXX)
mount -t tmpfs -o mode=0700 tmpfs "$stage"
trap 'umount -l "$stage" 2>/dev/null; rmdir "$stage" 2>/dev/null' EXIT
for d in usr etc var; do
    mkdir -p "$stage/up/$d" "$stage/work/$d" "$stage/lower/$d"
    mount --bind "/$d" "$stage/lower/$d"
    mount -t overlay overlay \
        -o "lowerdir=/$d,upperdir=$stage/up/$d,workdir=$stage/work/$d" "/$d"
done
# The users libvirtd needs, here if the host lacks them: tools/private-
# libvirtd would otherwise overlay /etc once more, and the purge would
# happen on that copy.
getent group kvm >/dev/null || groupadd -r kvm
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
    useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
getent group tss >/dev/null || groupadd -r tss
getent passwd tss >/dev/null || useradd -r -g tss -d /var/lib/tpm -s /bin/false tss
# what the upper layers hold before the packages come: compared after
upper_state() {
    (cd "$stage/up" && find . -mindepth 1 ! -type d -printf '%P %y %s %T@\n' | sort)
}
before=$(upper_state)
T=$(mktemp -d /tmp/sp-package-pool.XXXXXX)
trap 'rm -rf "$T"; umount -l "$stage" 2>/dev/null; rmdir "$stage" 2>/dev/null' EXIT
export DEBIAN_FRONTEND=noninteractive
unset SAFEPOOL_CONFIG SAFEPOOL_SCHEMA_DIR

step "apt-get install ./….deb"
cp "$debs"/safepool_*.deb "$debs"/libvirt-daemon-driver-storage-safepool_*.deb "$T"/
chmod 0755 "$T"; chmod 0644 "$T"/*.deb
apt-get install -y -q --no-install-recommends "$T"/safepool_*.deb \
    "$T"/libvirt-daemon-driver-storage-safepool_*.deb
rm -f "$T"/*.deb
dropin=$(dpkg -L libvirt-daemon-driver-storage-safepool | grep '/libvirtd.service.d/safepool.conf$')
dropin2=$(dpkg -L libvirt-daemon-driver-storage-safepool | grep '/virtstoraged.service.d/safepool.conf$')
cmp "$dropin" "$dropin2" || fail "the libvirtd and virtstoraged drop-ins differ"
backend_dir=$(sed -n 's/^Environment=LIBVIRT_STORAGE_BACKEND_DIR=//p' "$dropin")
[ -f "$backend_dir/libvirt_storage_backend_fs.so" ] || fail "no module in $backend_dir"
[ "$(readlink -f "$backend_dir/libvirt_storage_backend_disk.so")" = \
  "$(readlink -f /usr/lib/*/libvirt/storage-backend/libvirt_storage_backend_disk.so)" ] ||
    fail "no link to the stock disk module"
dpkg-query -W -f='${Conffiles}\n' safepool | grep -q /etc/safepool/safepool.conf ||
    fail "/etc/safepool/safepool.conf is not a conffile"
zcat /usr/share/man/man1/safepool.1.gz | grep -q '^\.SS status' || fail "safepool(1) lacks status"
zcat /usr/share/man/man5/safepool.conf.5.gz | grep -q 'max_capacity' || fail "safepool.conf(5) lacks keys"
[ "$(bash -c 'source /usr/share/bash-completion/bash_completion
              _completion_loader safepool; complete -p safepool')" = \
  "complete -F _safepool safepool" ] || fail "completion not found by bash-completion"

step "a private libvirtd with only the drop-in's environment ($dropin)"
"$src/tools/private-libvirtd" --env-file "$dropin" -- \
    /bin/bash "$here/session.sh" "$T" "$backend_dir" "$src"

step "nothing of safepool left in /usr, /etc, /var"
# files made or changed since before the install, and directories made
# (not in the lower layer) and left, apart from apt's and dpkg's records
left=$( { comm -13 <(printf '%s\n' "$before") <(upper_state) | cut -d' ' -f1
          (cd "$stage/up" && find . -mindepth 1 -type d -empty -printf '%P\n') |
              while read -r d; do [ -e "$stage/lower/$d" ] || echo "$d/"; done
        } | grep -vE '^(var/lib/dpkg|var/lib/apt|var/log|var/cache/(apt|debconf|man|ldconfig|safepool/libvirtd-caps))(/|$)|^etc/ld\.so\.cache$' || true)
[ -z "$left" ] || fail "left after purge: $(echo $left)"
expect_pool=$(cd "$T/pool" && ls -A | sort | paste -sd' ')
[ "$expect_pool" = "v.qcow2 w.raw" ] || fail "pool holds '$expect_pool'"
echo PASS
