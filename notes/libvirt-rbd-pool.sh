#!/bin/bash
# Drive libvirt 9.0's stock rbd pool backend against a tools/ceph-mini
# cluster, inside a private libvirtd. Records the XML that works.
#
#   eval "$(tools/ceph-mini start DIR --mgr)"
#   export CEPH_CONF CEPH_MON_HOST CEPH_MON_PORT CEPH_MON_V2_PORT CEPH_USER_KEY
#   tools/private-libvirtd -- bash notes/libvirt-rbd-pool.sh
#
# Needs libvirt-daemon-driver-storage-rbd (the stock backend loads it).
set -euo pipefail

: "${CEPH_MON_HOST:?}" "${CEPH_MON_PORT:?}" "${CEPH_USER_KEY:?}" "${CEPH_CONF:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

step() { printf '\n$ %s\n' "$*"; "$@"; }

uuid=$(cat /proc/sys/kernel/random/uuid)
cat >"$T/secret.xml" <<EOF
<secret ephemeral='no' private='yes'>
  <uuid>$uuid</uuid>
  <usage type='ceph'>
    <name>client.libvirt secret</name>
  </usage>
</secret>
EOF
# The key never appears on a command line: virsh reads it from a file and,
# without --plain, base64-decodes it (libvirt stores the raw bytes and
# re-encodes them for librados).
( umask 077; printf '%s' "$CEPH_USER_KEY" >"$T/key" )

pool_xml() {  # pool_xml NAME CEPH_POOL PORT
    cat <<EOF
<pool type='rbd'>
  <name>$1</name>
  <source>
    <name>$2</name>
    <host name='$CEPH_MON_HOST' port='$3'/>
    <auth type='ceph' username='libvirt'>
      <secret uuid='$uuid'/>
    </auth>
  </source>
</pool>
EOF
}
pool_xml ceph-rbd rbd "$CEPH_MON_PORT" >"$T/pool.xml"
pool_xml ceph-rbd2 rbd2 "${CEPH_MON_V2_PORT:-$CEPH_MON_PORT}" >"$T/pool2.xml"

echo "--- secret.xml"; cat "$T/secret.xml"
echo "--- pool.xml"; cat "$T/pool.xml"
echo "--- pool2.xml (v2 port)"; cat "$T/pool2.xml"

step virsh -q version
step virsh secret-define "$T/secret.xml"
step virsh secret-set-value "$uuid" --file "$T/key"
step virsh pool-define "$T/pool.xml"
step virsh pool-start ceph-rbd
step virsh pool-info ceph-rbd
step virsh vol-create-as ceph-rbd vol1 64M --format raw
step virsh vol-list ceph-rbd --details
step virsh vol-info vol1 --pool ceph-rbd
step virsh vol-path vol1 --pool ceph-rbd
step virsh vol-dumpxml vol1 --pool ceph-rbd
echo; echo "rbd CLI sees: $(rbd -c "$CEPH_CONF" ls rbd | tr '\n' ' ')"
rbd -c "$CEPH_CONF" create --size 16M rbd/from-cli
step virsh pool-refresh ceph-rbd
step virsh vol-list ceph-rbd
step virsh vol-resize vol1 128M --pool ceph-rbd
step virsh vol-delete vol1 --pool ceph-rbd
step virsh vol-delete from-cli --pool ceph-rbd

step virsh pool-define "$T/pool2.xml"
step virsh pool-start ceph-rbd2
step virsh vol-create-as ceph-rbd2 v2vol 16M --format raw
step virsh vol-list ceph-rbd2
step virsh vol-delete v2vol --pool ceph-rbd2

for p in ceph-rbd ceph-rbd2; do
    step virsh pool-destroy "$p"
    step virsh pool-undefine "$p"
done
step virsh secret-undefine "$uuid"
echo; echo "libvirt-rbd-pool: all steps passed"
