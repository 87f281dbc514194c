# The dpkg-diversion install (docs/module.md), simulated inside the private
# namespace: the module replaces the stock fs module in libvirt's own
# directory and the stock one sits at the diverted .libvirt-stock name. dir
# pools go through safepool, fs pools through the diverted stock module.
. "$(dirname "$0")/lib.sh"
lib=/usr/lib/x86_64-linux-gnu/libvirt/storage-backend
d=$T/diverted
mkdir -p "$d"
for m in "$lib"/libvirt_storage_backend_*.so; do
    cp "$m" "$d/"
done
mv "$d/libvirt_storage_backend_fs.so" "$d/libvirt_storage_backend_fs.so.libvirt-stock"
cp "$SP_MODULE" "$d/libvirt_storage_backend_fs.so"
mount --bind "$d" "$lib"          # private mount namespace: host untouched
"$SAFEPOOL_SRCDIR/tools/private-libvirtd" --restart
step "dir pool through safepool"
virsh -q pool-define-as dp dir --target "$T/dirpool"
virsh -q pool-build dp
virsh -q pool-start dp
virsh -q vol-create-as dp d.qcow2 1M --format qcow2
expect_eq "$(getfattr --only-values -n user.safepool.format "$T/dirpool/d.qcow2" 2>/dev/null)" qcow2 "safepool xattr"
virsh_fails "is not allowed" vol-create-as dp 'a,b' 1M
step "fs pool through the diverted stock module"
fs_pool_check
echo PASS
