# With safepool's module loaded, an fs pool (loop-mounted ext4) still works
# through the chain-loaded stock fs backend, next to a safepool dir pool.
. "$(dirname "$0")/lib.sh"
step "a dir pool goes through safepool"
virsh -q pool-define-as dp dir --target "$T/dirpool"
virsh -q pool-build dp
virsh -q pool-start dp
virsh -q vol-create-as dp d.raw 1M
expect_eq "$(getfattr --only-values -n user.safepool.format "$T/dirpool/d.raw")" raw "dir pool xattr"
step "an fs pool goes through the stock backend"
fs_pool_check
echo PASS
