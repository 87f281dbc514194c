# virsh pool-build of a dir pool: the directory is made with the pool's
# mode and owner, and a symlink planted at the target (or above it) is
# refused without chmod/chown of what it points to.
. "$(dirname "$0")/lib.sh"

# define_pool NAME TARGET MODE OWNER GROUP
define_pool() {
    cat >"$T/$1.xml" <<X
<pool type='dir'><name>$1</name><target><path>$2</path>
<permissions><mode>$3</mode><owner>$4</owner><group>$5</group></permissions>
</target></pool>
X
    virsh -q pool-define "$T/$1.xml" >/dev/null
}

step "pool-build makes the directory with the pool's permissions"
define_pool bp "$T/made/pool" 0750 0 0
virsh -q pool-build bp
expect_eq "$(perms "$T/made/pool")" "750 root root" "built pool dir"
virsh -q pool-start bp >/dev/null
virsh -q pool-destroy bp >/dev/null

step "a symlink at the target is refused, its target untouched"
mkdir -m 0700 "$T/victim"
before=$(stat -c '%a %u %g %Z' "$T/victim")
ln -s "$T/victim" "$T/link"
define_pool sp1 "$T/link" 0755 4242 4242
virsh_fails "symlink" pool-build sp1
ln -s "$T/victim" "$T/uplink"
define_pool sp2 "$T/uplink/pool" 0755 4242 4242
virsh_fails "symlink" pool-build sp2
expect_eq "$(stat -c '%a %u %g %Z' "$T/victim")" "$before" "symlink target mode/owner/ctime"
[ ! -e "$T/victim/pool" ] || fail "a directory was made through the symlink"
step "a pool mode others can write is refused, nothing made"
define_pool sw "$T/shared" 0777 0 0
virsh_fails "world-writable" pool-build sw
[ ! -e "$T/shared" ] || fail "a refused pool-build made the directory"
virsh -q pool-undefine sw >/dev/null
define_pool sg "$T/shared" 0775 0 4242
virsh_fails "writable by group 4242" pool-build sg
[ ! -e "$T/shared" ] || fail "a refused pool-build made the directory"

step "pool-delete of a pool whose volumes are gone (safepool's lock file goes too)"
define_pool dp "$T/deleted" 0711 0 0
virsh -q pool-build dp
virsh -q pool-start dp
virsh -q vol-create-as dp v.raw 1M
[ -e "$T/deleted/.safepool.lock" ] || fail "no lock file: the test tests nothing"
virsh -q vol-delete --pool dp v.raw
virsh -q pool-destroy dp
virsh -q pool-delete dp
[ ! -e "$T/deleted" ] || fail "pool-delete left $T/deleted: $(ls -A "$T/deleted")"
echo "OK"
