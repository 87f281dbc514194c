# The real virt-install / virt-clone / virt-xml (Debian's virtinst 4.1)
# against a dir pool of the private libvirtd, with the module loaded.
# No guest is ever started: `virt-install --import --noreboot` only defines
# (Installer._create_guest boots only when there is an install phase or
# doboot), virt-clone and virt-xml only define, and --print-xml creates the
# storage but defines nothing. The last check proves nothing ran.
#
# Unlike the other scripts, a failing step does not end the run: each step
# runs in a subshell, the failures are listed at the end and the script
# exits 1. Some steps document known defects and FAIL TODAY on purpose
# (marked "EXPECTED TO FAIL until ..."); they must pass once the defect is
# fixed. Run with `run.sh --stock virtinst.sh` for the stock backend's
# behaviour (the safepool xattr checks are skipped there; step 3 fails,
# the stock backend has no backing-root policy). Expected today: steps 4a,
# 4b, 6 and 7 fail with the module, step 3 with --stock.
#
# Takes about 2 minutes: where /dev/kvm is root:root 0600, libvirtd finds
# its QEMU capabilities stale and re-probes (~8 s) on every domain define.
#
# Note: virtinst turns the parent directory of any path it is given that no
# pool covers into a new, autostarted dir pool (diskbackend.manage_path);
# steps 3 and 7 create the pools "outside" and "roots" that way.
. "$(dirname "$0")/lib.sh"
P=$T/pool     # the pool
OUT=$T/outside # neither pool nor backing root
R=$T/roots    # a backing root of the policy
mkdir -p "$OUT" "$R"
# PRIVATE_LIBVIRTD_BACKEND_DIR is empty in --stock mode
module=${PRIVATE_LIBVIRTD_BACKEND_DIR:+1}

VI=(virt-install --virt-type qemu --memory 64 --osinfo generic
    --graphics none --network none --noautoconsole --import --noreboot)

xattr() { getfattr --only-values -n "user.safepool.$2" "$1" 2>/dev/null || true; }
dom_x() { virsh dumpxml "$1" | xmllint --xpath "string($2)" -; }
vol_x() { virsh vol-dumpxml --pool sp "$1" | xmllint --xpath "string($2)" -; }
# fails_with PATTERN cmd...: the command must fail, its output contain PATTERN
fails_with() {
    local pat=$1 out
    shift
    if out=$("$@" 2>&1); then
        fail "$1 succeeded, expected failure matching '$pat'"
    fi
    grep -qF -- "$pat" <<<"$out" ||
        fail "$1: error '$(grep -v '^$' <<<"$out" | tail -3)' does not contain '$pat'"
    printf '   refused as expected: %s\n' "$(grep ERROR <<<"$out" | tail -1)"
}

failed=()
# run_step ID TITLE FUNCTION: run FUNCTION in a subshell with errexit; a
# failure is recorded and the next step runs.
run_step() {
    local id=$1 title=$2 rc
    step "$id. $title"
    set +e
    (set -e; "$3")
    rc=$?
    set -e
    [ "$rc" = 0 ] || { failed+=("$id"); printf '   step %s FAILED\n' "$id"; }
}

# a policy with a backing root, read by libvirtd at (re)start
printf '[volumes]\nbacking_roots=%s\n' "$R" >"$T/safepool.conf"
chmod 0644 "$T/safepool.conf"
export SAFEPOOL_CONFIG=$T/safepool.conf
"$SAFEPOOL_SRCDIR/tools/private-libvirtd" --restart
virsh -q pool-define-as sp dir --target "$P"
virsh -q pool-build sp
virsh -q pool-start sp
qemu-img create -q -f qcow2 "$OUT/base.qcow2" 16M
qemu-img create -q -f qcow2 "$R/base.qcow2" 16M

s1() {
    "${VI[@]}" --name vm1 --disk pool=sp,size=0.0625,format=qcow2
    grep -qx vm1.qcow2 <<<"$(virsh -q vol-list sp | awk '{print $1}')" ||
        fail "vm1.qcow2 not listed"
    expect_eq "$(qinfo "$P/vm1.qcow2" qcow2 .format)" qcow2 "image format"
    expect_eq "$(qinfo "$P/vm1.qcow2" qcow2 '."virtual-size"')" 67108864 "image size"
    [ -z "$module" ] ||
        expect_eq "$(xattr "$P/vm1.qcow2" format)" qcow2 "user.safepool.format"
    expect_eq "$(vol_format sp vm1.qcow2)" qcow2 "volume format"
    expect_eq "$(dom_x vm1 '//disk[@device="disk"]/driver/@type')" qcow2 "domain driver type"
    expect_eq "$(dom_x vm1 '//disk[@device="disk"]/source/@file')" "$P/vm1.qcow2" "domain disk source"
}
run_step 1 "virt-install --disk pool=sp,size=,format=qcow2: volume and driver type" s1

s2() {
    virsh -q vol-create-as sp base.qcow2 64M --format qcow2
    # no backing_format: virtinst finds it with storageVolLookupByPath and
    # copies the base volume's <format> (StorageVolume._detect_backing_store_format)
    "${VI[@]}" --name vmov --disk "pool=sp,size=0.0625,format=qcow2,backing_store=$P/base.qcow2"
    expect_eq "$(vol_x vmov.qcow2 /volume/backingStore/path)" "$P/base.qcow2" "backingStore path"
    expect_eq "$(vol_x vmov.qcow2 /volume/backingStore/format/@type)" qcow2 "backingStore format"
    expect_eq "$(qinfo "$P/vmov.qcow2" qcow2 '."backing-filename"')" "$P/base.qcow2" "image backing file"
    expect_eq "$(qinfo "$P/vmov.qcow2" qcow2 '."backing-filename-format"')" qcow2 "image backing format"
    if [ -n "$module" ]; then
        expect_eq "$(xattr "$P/vmov.qcow2" backing)" "$P/base.qcow2" "user.safepool.backing"
        expect_eq "$(xattr "$P/vmov.qcow2" backing-format)" qcow2 "user.safepool.backing-format"
    fi
    expect_eq "$(dom_x vmov '//disk[@device="disk"]/driver/@type')" qcow2 "domain driver type"
    # explicit backing_format
    "${VI[@]}" --name vmov2 --disk "pool=sp,size=0.0625,format=qcow2,backing_store=$P/base.qcow2,backing_format=qcow2"
    expect_eq "$(vol_x vmov2.qcow2 /volume/backingStore/format/@type)" qcow2 "backingStore format (explicit)"
    # virtinst reads the volumes' <backingStore> (DeviceDisk.path_in_use_by):
    # the base counts as used by the overlays' guests
    fails_with "is already in use by other guests" \
        "${VI[@]}" --name other --disk "path=$P/base.qcow2" --print-xml
}
run_step 2 "overlay: --disk pool=sp,...,backing_store=POOL_VOLUME" s2

s3() {
    local before
    before=$(snapshot "$P")
    fails_with "is neither inside the pool nor below a backing root" \
        "${VI[@]}" --name vmbad --disk "pool=sp,size=0.0625,format=qcow2,backing_store=$OUT/base.qcow2,backing_format=qcow2"
    expect_eq "$(snapshot "$P")" "$before" "pool after the refusal"
    virsh -q dominfo vmbad >/dev/null 2>&1 && fail "refused guest vmbad was defined"
    expect_eq "$(qinfo "$OUT/base.qcow2" qcow2 .format)" qcow2 "outside file untouched"
}
run_step 3 "a backing store outside the pool and backing roots is refused" s3

s4a() {
    # 8 MiB: a whole number of blocks, so only safepool's own bytes can
    # make allocation exceed capacity
    "${VI[@]}" --name vmraw --disk pool=sp,size=0.0078125,format=raw,sparse=no
    expect_eq "$(stat -c %s "$P/vmraw.img")" 8388608 "raw size"
    expect_eq "$(dom_x vmraw '//disk[@device="disk"]/driver/@type')" raw "domain driver type"
    [ -z "$module" ] ||
        expect_eq "$(xattr "$P/vmraw.img" format)" raw "user.safepool.format"
    printf 'virt-clone me' | dd of="$P/vmraw.img" conv=notrunc status=none
    # EXPECTED TO FAIL until the "allocation > capacity of a fully allocated
    # volume" defect is fixed: allocation is st_blocks*512, which on ext4
    # also counts the 4 KiB block holding the user.safepool.* xattrs
    # (user.safepool.xml does not fit in the inode): 8392704 for a fully
    # allocated 8388608-byte file (the stock backend reports 8388608).
    local cap alloc
    cap=$(vol_x vmraw.img /volume/capacity)
    alloc=$(vol_x vmraw.img /volume/allocation)
    [ "$alloc" -le "$cap" ] ||
        fail "fully allocated raw volume: allocation $alloc > capacity $cap"
}
run_step 4a "virt-install --disk ...,format=raw,sparse=no: allocation <= capacity" s4a

s4b() {
    # virt-clone copies capacity, allocation and format from the source's
    # volume XML (StorageVolume.set_input_vol) into pool.createXMLFrom.
    # EXPECTED TO FAIL until the same defect is fixed: safepool's own policy
    # then refuses the clone XML ("volume XML element 'allocation': 8392704
    # bytes is more than the capacity of 8388608 bytes").
    local out
    out=$(virt-clone --original vmraw --name vmraw-clone --file "$P/vmraw-clone.img" 2>&1) ||
        fail "virt-clone: $(grep ERROR <<<"$out" || printf '%s' "$out")"
    grep -qx vmraw-clone.img <<<"$(virsh -q vol-list sp | awk '{print $1}')" ||
        fail "clone volume not listed"
    cmp "$P/vmraw.img" "$P/vmraw-clone.img" || fail "clone differs from its source"
    [ -z "$module" ] ||
        expect_eq "$(xattr "$P/vmraw-clone.img" format)" raw "clone user.safepool.format"
    expect_eq "$(dom_x vmraw-clone '//disk[@device="disk"]/source/@file')" "$P/vmraw-clone.img" "clone's disk"
    expect_eq "$(dom_x vmraw-clone '//disk[@device="disk"]/driver/@type')" raw "clone's driver type"
}
run_step 4b "virt-clone of the fully allocated raw guest" s4b

s5() {
    # --edit --disk without path= does not look the volume up (the disk
    # keeps a StorageBackendStub); path= would, via manage_path
    virt-xml vmraw --edit --disk cache=none
    expect_eq "$(dom_x vmraw '//disk[@device="disk"]/driver/@cache')" none "edited cache"
    expect_eq "$(dom_x vmraw '//disk[@device="disk"]/driver/@type')" raw "driver type after edit"
    expect_eq "$(dom_x vmraw '//disk[@device="disk"]/source/@file')" "$P/vmraw.img" "source after edit"
    # --add-device builds the new volume through the pool (createXML)
    virt-xml vmraw --add-device --disk pool=sp,size=0.0625,format=qcow2
    expect_eq "$(dom_x vmraw 'count(//disk[@device="disk"])')" 2 "disks after add-device"
    expect_eq "$(dom_x vmraw '//disk[@device="disk"][2]/driver/@type')" qcow2 "added disk driver type"
    local added
    added=$(dom_x vmraw '//disk[@device="disk"][2]/source/@file')
    expect_eq "$(dirname "$added")" "$P" "added disk is in the pool"
    expect_eq "$(qinfo "$added" qcow2 .format)" qcow2 "added disk image format"
    [ -z "$module" ] ||
        expect_eq "$(xattr "$added" format)" qcow2 "added disk user.safepool.format"
}
run_step 5 "virt-xml --edit --disk and --add-device --disk on the raw guest" s5

s6() {
    # a qcow2 put into the pool directory behind libvirt's back: no
    # recorded format. virt-install takes the <driver type> from the
    # volume's <format> (diskbackend.StorageBackend.get_driver_type).
    # EXPECTED TO FAIL until the "unknown-format file is listed as raw"
    # defect is fixed: safepool lists it as raw, so the guest would read
    # the qcow2 image as a raw disk. Acceptable outcomes: virt-install is
    # refused (e.g. libvirt rejects <driver type='none'/>), or the guest's
    # driver type is not raw.
    qemu-img create -q -f qcow2 "$P/dropped.qcow2" 16M
    virsh -q pool-refresh sp
    printf '   listed format: %s\n' "$(vol_format sp dropped.qcow2 || true)"
    if "${VI[@]}" --name vmdrop --disk "path=$P/dropped.qcow2"; then
        local t
        t=$(dom_x vmdrop '//disk[@device="disk"]/driver/@type')
        [ "$t" != raw ] ||
            fail "a file of unknown format was attached with driver type '$t'"
    fi
}
run_step 6 "virt-install --disk path= of a file with no recorded format" s6

s7() {
    # backing_store below a backing root, no backing_format: virtinst
    # makes the root a pool and copies the <format> that pool lists for
    # the file into <backingStore><format> (StorageVolume.install ->
    # _detect_backing_store_format).
    # EXPECTED TO FAIL until the "unknown-format file is listed as raw"
    # defect is fixed: virtinst then claims the qcow2 is raw and the user
    # sees "...: unsafe image: format-mismatch". Passes if the overlay is
    # made on a qcow2 backing, or if it is refused without virtinst having
    # been told the file is raw (e.g. a listed 'none' is refused by
    # libvirt's volume parser: "unknown volume format type none").
    local out claimed
    if out=$("${VI[@]}" --debug --name vmroot --disk "pool=sp,size=0.0625,format=qcow2,backing_store=$R/base.qcow2" 2>&1); then
        expect_eq "$(vol_x vmroot.qcow2 /volume/backingStore/format/@type)" qcow2 "backingStore format"
        expect_eq "$(qinfo "$P/vmroot.qcow2" qcow2 '."backing-filename-format"')" qcow2 "image backing format"
        return 0
    fi
    printf '   refused: %s\n' "$(grep 'ERROR' <<<"$out" | tail -1)"
    grep -q "Creating storage volume 'vmroot.qcow2' with xml" <<<"$out" ||
        fail "virt-install failed before asking for the volume: $(grep ERROR <<<"$out" | tail -1)"
    claimed=$(sed -n '/<backingStore>/,/<\/backingStore>/p' <<<"$out" |
              sed -n 's/.*<format type="\([a-z0-9]*\)".*/\1/p')
    [ "$claimed" != raw ] ||
        fail "virtinst was told the qcow2 backing file is raw and sent <format type='raw'/>"
}
run_step 7 "overlay on a backing-root qcow2 without backing_format" s7

step "no guest was started"
running=$(virsh list --state-running --name | grep -v '^$' || true)
[ -z "$running" ] || fail "running guests: $running"

if [ ${#failed[@]} -gt 0 ]; then
    fail "steps failed: ${failed[*]}"
fi
echo PASS
