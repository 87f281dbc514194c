# Every volume operation of a dir pool through virsh, with the module
# loaded; each result checked with qemu-img info and file modes/owners.
. "$(dirname "$0")/lib.sh"
P=$T/pool
step "pool-define-as / pool-build / pool-start"
virsh -q pool-define-as vp dir --target "$P"
virsh -q pool-build vp
virsh -q pool-start vp
[ -d "$P" ] || fail "pool-build did not create $P"
grep -q "safepool: dir backend registered" /var/log/libvirt/libvirtd.log ||
    PRIVATE_LIBVIRTD_LOG_FILTERS= true  # info level is not logged by default

step "vol-create-as raw and qcow2"
# sparse because the allocation says so: without one, libvirt (and
# safepool) allocate a raw volume fully
virsh -q vol-create-as vp disk.raw 64M --format raw --allocation 0
virsh -q vol-create-as vp full.raw 16M --format raw
expect_eq "$(( $(stat -c '%b * %B' "$P/full.raw") >= 16777216 ))" 1 "raw without an allocation is fully allocated"
expect_eq "$(( $(stat -c %b "$P/disk.raw") < 64 ))" 1 "raw with allocation 0 is sparse (its attributes may take a block)"
virsh -q vol-delete --pool vp full.raw
virsh -q vol-create-as vp disk.qcow2 1G --format qcow2
expect_eq "$(qinfo "$P/disk.raw" raw .format)" raw "raw format"
expect_eq "$(qinfo "$P/disk.raw" raw '."virtual-size"')" 67108864 "raw size"
expect_eq "$(qinfo "$P/disk.qcow2" qcow2 .format)" qcow2 "qcow2 format"
expect_eq "$(qinfo "$P/disk.qcow2" qcow2 '."virtual-size"')" 1073741824 "qcow2 size"
expect_eq "$(perms "$P/disk.raw")" "600 root root" "raw perms"
expect_eq "$(perms "$P/disk.qcow2")" "600 root root" "qcow2 perms"

step "vol-create: qcow2 over a backing volume"
cat >"$T/over.xml" <<X
<volume><name>over.qcow2</name><capacity>1073741824</capacity>
  <target><format type='qcow2'/></target>
  <backingStore><path>$P/disk.qcow2</path><format type='qcow2'/></backingStore>
</volume>
X
virsh -q vol-create vp "$T/over.xml"
expect_eq "$(qinfo "$P/over.qcow2" qcow2 '."backing-filename"')" "$P/disk.qcow2" "backing file"
expect_eq "$(qinfo "$P/over.qcow2" qcow2 '."backing-filename-format"')" qcow2 "backing format"

step "vol-create: LUKS with a libvirt secret"
cat >"$T/secret.xml" <<X
<secret ephemeral='no' private='yes'><usage type='volume'><volume>$P/enc.luks</volume></usage></secret>
X
uuid=$(virsh secret-define "$T/secret.xml" | awk '{print $2}')
virsh -q secret-set-value "$uuid" --base64 "$(printf 'correct horse' | base64)" >/dev/null 2>&1
cat >"$T/luks.xml" <<X
<volume><name>enc.luks</name><capacity>33554432</capacity>
  <target><format type='raw'/>
    <encryption format='luks'><secret type='passphrase' uuid='$uuid'/></encryption>
  </target></volume>
X
virsh -q vol-create vp "$T/luks.xml"
expect_eq "$(qemu-img info --output=json "$P/enc.luks" | jq -r .format)" luks "LUKS volume format"
grep -q "correct horse" <<<"$(qemu-img info "$P/enc.luks")" && fail "secret leaked into image info"
expect_eq "$(perms "$P/enc.luks")" "600 root root" "LUKS perms"
qemu-img info --object secret,id=s0,data="correct horse" \
    --image-opts "driver=luks,key-secret=s0,file.filename=$P/enc.luks" >/dev/null ||
    fail "LUKS volume does not open with the libvirt secret"

step "vol-create: compat 1.1 with lazy_refcounts"
cat >"$T/lazy.xml" <<X
<volume><name>lazy.qcow2</name><capacity>104857600</capacity>
  <target><format type='qcow2'/><compat>1.1</compat><features><lazy_refcounts/></features></target>
</volume>
X
virsh -q vol-create vp "$T/lazy.xml"
expect_eq "$(qinfo "$P/lazy.qcow2" qcow2 '."format-specific".data."lazy-refcounts"')" true "lazy_refcounts"
expect_eq "$(qinfo "$P/lazy.qcow2" qcow2 '."format-specific".data.compat')" 1.1 "compat"

step "vol-clone and vol-create-from"
printf 'hello safepool' | dd of="$P/disk.raw" conv=notrunc status=none
virsh -q vol-clone --pool vp disk.raw clone.raw
cmp "$P/disk.raw" "$P/clone.raw" || fail "clone differs from its source"
expect_eq "$(perms "$P/clone.raw")" "600 root root" "clone perms"
cat >"$T/from.xml" <<X
<volume><name>from.qcow2</name><capacity>67108864</capacity><target><format type='qcow2'/></target></volume>
X
virsh -q vol-create-from vp "$T/from.xml" disk.raw --inputpool vp
expect_eq "$(qinfo "$P/from.qcow2" qcow2 .format)" qcow2 "create-from format"
qemu-img compare -f raw -F qcow2 "$P/disk.raw" "$P/from.qcow2" >/dev/null ||
    fail "create-from content differs"

step "vol-resize: grow, shrink refused without --shrink, shrink with it"
virsh -q vol-resize --pool vp disk.qcow2 2G
expect_eq "$(qinfo "$P/disk.qcow2" qcow2 '."virtual-size"')" 2147483648 "grown qcow2"
virsh -q vol-resize --pool vp clone.raw 128M
expect_eq "$(stat -c %s "$P/clone.raw")" 134217728 "grown raw"
virsh_fails "shrink" vol-resize --pool vp clone.raw 32M
expect_eq "$(stat -c %s "$P/clone.raw")" 134217728 "raw after refused shrink"
virsh -q vol-resize --pool vp clone.raw 32M --shrink
expect_eq "$(stat -c %s "$P/clone.raw")" 33554432 "shrunk raw"

step "vol-upload / vol-download round trip"
head -c 4194304 /dev/urandom >"$T/payload"
virsh -q vol-create-as vp up.raw 4M --format raw
virsh -q vol-upload --pool vp up.raw "$T/payload"
cmp "$T/payload" "$P/up.raw" || fail "uploaded volume differs"
virsh -q vol-download --pool vp up.raw "$T/back"
cmp "$T/payload" "$T/back" || fail "downloaded bytes differ"
expect_eq "$(perms "$P/up.raw")" "600 root root" "perms after upload"
expect_eq "$(getfattr --only-values -n user.safepool.format "$P/up.raw")" raw "recorded format after upload"
grep -q '^\.safepool-tmp-' <<<"$(ls -a "$P")" && fail "temporary left after upload"

step "vol-wipe"
virsh -q vol-wipe --pool vp up.raw
cmp <(head -c 4194304 /dev/zero) "$P/up.raw" || fail "wiped volume not zero"
expect_eq "$(stat -c %s "$P/up.raw")" 4194304 "wiped size"

step "vol-delete"
virsh -q vol-delete --pool vp clone.raw
[ -e "$P/clone.raw" ] && fail "vol-delete left the file"

step "pool-refresh lists the recorded formats"
virsh -q pool-refresh vp
expect_eq "$(vol_format vp disk.qcow2)" qcow2 "refreshed disk.qcow2"
expect_eq "$(vol_format vp over.qcow2)" qcow2 "refreshed over.qcow2"
expect_eq "$(vol_format vp disk.raw)" raw "refreshed disk.raw"
grep -q clone.raw <<<"$(virsh -q vol-list vp)" && fail "deleted volume listed"
grep -q safepool <<<"$(virsh -q vol-list vp)" && fail "hidden file listed"

step "pool start sweeps a stale temporary (a crash's leftover)"
printf 'half-made' >"$P/.safepool-tmp-crashed-AbC123"
virsh -q pool-destroy vp
virsh -q pool-start vp
[ -e "$P/.safepool-tmp-crashed-AbC123" ] && fail "stale temporary not swept at pool start"

step "libvirtd restart: volumes still listed with their formats"
"$SAFEPOOL_SRCDIR/tools/private-libvirtd" --restart
grep -q 'vp *active' <<<"$(virsh -q pool-list --all)" || virsh -q pool-start vp
expect_eq "$(virsh -q vol-list vp | awk '{print $1}' | sort | tr '\n' ' ')" \
    "disk.qcow2 disk.raw enc.luks from.qcow2 lazy.qcow2 over.qcow2 up.raw " "volumes after restart"
for v in disk.qcow2 over.qcow2 lazy.qcow2 from.qcow2; do
    expect_eq "$(vol_format vp $v)" qcow2 "$v after restart"
done
expect_eq "$(vol_format vp disk.raw)" raw "disk.raw after restart"
grep -q "encryption format='luks'" <<<"$(virsh vol-dumpxml --pool vp enc.luks)" ||
    fail "enc.luks not reported as LUKS after restart"

step "after the restart the LUKS volume still has its secret: it resizes"
grep -q "<secret type='passphrase' uuid='$uuid'/>" <<<"$(virsh vol-dumpxml --pool vp enc.luks)" ||
    fail "enc.luks lost its secret after restart"
virsh -q vol-resize enc.luks 64M --pool vp
expect_eq "$(qemu-img info --output=json --object secret,id=s0,data="correct horse" \
    --image-opts "driver=luks,key-secret=s0,file.filename=$P/enc.luks" | jq -r '."virtual-size"')" \
    67108864 "LUKS volume size after resize"
echo PASS
