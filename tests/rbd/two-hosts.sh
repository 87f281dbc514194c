#!/bin/bash
# Two private libvirtds with safepool's modules (hosts A and B) against one
# ceph-mini cluster, driven through virsh and python3-libvirt by
# two_hosts.py. The cluster is started and stopped here, outside the
# daemons' pid namespaces. Exit 77 = skipped.
. "$(dirname "$0")/lib.sh"
[ -n "${SP_MODULE:-}" ] && [ -n "${SP_RBD_MODULE:-}" ] ||
    { echo "SKIP: modules not built"; exit 77; }
"$SRCDIR/tools/make-backend-dir" "$SP_MODULE" "$SP_RBD_MODULE" "$T/backends" 2>/dev/null
ls "$T/backends/libvirt_storage_backend_rbd.so" >/dev/null
[ -L "$T/backends/libvirt_storage_backend_rbd.so" ] && fail "stock rbd module linked"
# the key reaches the driver on fd 3 only (not argv, not the environment)
SP_TEST_TMP=$T SP_NS=$NS SP_OWN_CEPH=${OWN_CEPH:-} CEPH_MON_HOST=$CEPH_MON_HOST \
CEPH_MON_PORT=$CEPH_MON_PORT CEPH_USER=$CEPH_USER SAFEPOOL_SRCDIR=$SRCDIR \
    /usr/bin/python3 "$here/two_hosts.py" 3< <(printf %s "$KEY")
