#!/bin/bash
# The safepool CLI on an RBD pool of a ceph-mini cluster (no daemon):
# every operation, each refusal with its exit code and message, the
# stock backend's faults shown fixed, cross-process locking, a dead
# holder's lease, the sweeper, an unreachable cluster. Exit 77 = skipped.
. "$(dirname "$0")/lib.sh"

step "create, list, dumpxml: the recorded format, hidden names not listed"
create v1 $((64 << 20))
expect_eq "$(sp vol-list --json | jq -r '.[] | select(.name=="v1") | .format')" raw "format of v1"
sp vol-dumpxml v1 | grep -q "<format type='raw'/>" || fail "dumpxml lacks the format"
expect_eq "$(rbdc image-meta get "rbd/$NS/v1" safepool.format)" raw "metadata safepool.format"
rbdc create --size 1M "rbd/$NS/.safepool-tmp-create-foreign1"
rbdc create --size 1M "rbd/$NS/by-cli"
expect_eq "$(sp vol-list --json | jq -r '.[] | select(.name=="by-cli") | .format')" unknown "unrecorded image"
sp vol-list --json | jq -e '.[] | select(.name | startswith("."))' >/dev/null && fail "hidden name listed"
sp_fails 4 "exists already" vol-create "$T/v.xml"

step "adopt: an image made by rbd is recorded after inspection, once, raw only"
qemu-img create -q -f qcow2 -b /etc/passwd -F raw "$T/adopt-evil.qcow2" 8M
rbdc import --no-progress "$T/adopt-evil.qcow2" "rbd/$NS/by-cli-evil"
sp_fails 1 "qcow2-backing-file" vol-adopt by-cli-evil --format raw
expect_eq "$(sp vol-list --json | jq -r '.[] | select(.name=="by-cli-evil") | .format')" unknown "refused adoption recorded nothing"
sp_fails 1 "RBD images are raw" vol-adopt by-cli --format qcow2
sp vol-adopt by-cli --format raw
expect_eq "$(sp vol-list --json | jq -r '.[] | select(.name=="by-cli") | .format')" raw "adopted format"
expect_eq "$(rbdc image-meta get "rbd/$NS/by-cli" safepool.format)" raw "adopted safepool.format"
rbdc image-meta get "rbd/$NS/by-cli" safepool.xml | grep -q "<name>by-cli</name>" || fail "adopted image has no recorded XML"
sp_fails 4 "has a recorded format already" vol-adopt by-cli --format raw
sp vol-delete by-cli-evil

step "names: RBD's separators refused, odd but visible Unicode kept"
vol_xml 'a@b' 1048576 >"$T/n.xml"; sp_fails 1 "'@' is not allowed" vol-create "$T/n.xml"
vol_xml $'evil\u202egpj.exe' 1048576 >"$T/n.xml"; sp_fails 1 "Unicode Cf" vol-create "$T/n.xml"
create "vm-ä-日本-Ω" 1048576
sp vol-list --json | jq -e '.[] | select(.name=="vm-ä-日本-Ω")' >/dev/null || fail "unicode name not listed"

step "clone of a source written since an earlier clone (stock: fails)"
head -c 4M /dev/urandom >"$T/d1"
head -c 4M /dev/urandom >"$T/d2"
sp vol-upload v1 "$T/d1"
create c1 $((4 << 20)) --from v1
sp vol-upload v1 "$T/d2" 2>/dev/null && fail "upload into a cloned volume accepted"
# the source is written in place (as a guest would) between two clones
qemu-io --object secret,id=s,file=/dev/fd/3,format=base64 --image-opts \
    "driver=rbd,pool=rbd,namespace=$NS,image=v1,server.0.host=$CEPH_MON_HOST,server.0.port=$CEPH_MON_PORT,user=$CEPH_USER,key-secret=s,conf=/dev/null" \
    -c "write -P 0x5a 0 1M" 3< <(printf %s "$KEY") >/dev/null
create c2 $((4 << 20)) --from v1
sp vol-download c1 "$T/c1.out"; cmp "$T/c1.out" "$T/d1" || fail "c1 is not the first content"
sp vol-download c2 "$T/c2.out"
expect_eq "$(head -c 1M "$T/c2.out" | tr -d 'Z' | wc -c)" 0 "c2 has the second write"
expect_eq "$(sp vol-list --json | jq '.[] | select(.name=="c2") | .allocation')" 0 "clone allocation (O(1))"
expect_eq "$(rbdc snap ls "rbd/$NS/v1" | grep -c safepool-clone-)" 2 "one safepool snapshot per clone"

step "delete: refused while clones exist (stock: misleading ENOENT)"
sp_fails 4 "it has clones (rbd/$NS/c1" vol-delete v1
sp vol-delete c2
expect_eq "$(rbdc snap ls "rbd/$NS/v1" | grep -c safepool-clone-)" 1 "the clone's snapshot went with it"
sp vol-delete v1 --flatten-clones
cmp "$T/c1.out" <(rbdc export --no-progress "rbd/$NS/c1" -) || fail "flattened c1 changed"
expect_eq "$(sp vol-list --json | jq -r '.[] | select(.name=="c1") | .parent')" null "c1 flattened"

step "delete and wipe refused while qemu-io holds the image"
create held $((8 << 20))
qemu_hold held "$T/fifo"
sp_fails 4 "it is open" vol-delete held
sp_fails 4 "127.0.0.1:" vol-wipe held
sp_fails 4 "it is open" vol-upload held "$T/d1"
qemu_release
sp vol-delete held

step "resize: grow, shrink only with --shrink, allocation is not capacity"
create r1 $((64 << 20))
printf 'data' | qemu-img dd -f raw -O raw 2>/dev/null || true
sp vol-resize r1 128M
expect_eq "$(sp vol-list --json | jq '.[] | select(.name=="r1") | .capacity')" $((128 << 20)) "grown"
expect_eq "$(sp vol-list --json | jq '.[] | select(.name=="r1") | .allocation')" 0 "allocation of an empty image"
sp_fails 1 "needs --shrink" vol-resize r1 32M
sp vol-resize r1 32M --shrink
expect_eq "$(rbdc info --format json "rbd/$NS/r1" | jq .size)" $((32 << 20)) "shrunk"

step "wipe zeroes in place, a clone included"
create w1 $((8 << 20)); sp vol-upload w1 "$T/d1"
create w2 $((8 << 20)) --from w1
sp vol-wipe w2
expect_eq "$(rbdc export --no-progress "rbd/$NS/w2" - | tr -d '\0' | wc -c)" 0 "wiped clone reads zeros"
sp vol-download w1 "$T/w1.out"; cmp <(head -c 4M "$T/w1.out") "$T/d1" || fail "wiping the clone changed its source"

step "upload/download: sparse both ways"
truncate -s 64M "$T/sparse"; printf 'head' | dd of="$T/sparse" conv=notrunc 2>/dev/null
printf 'tail' | dd of="$T/sparse" bs=1M seek=60 conv=notrunc 2>/dev/null
create s1 $((64 << 20)); sp vol-upload s1 "$T/sparse"
alloc=$(sp vol-list --json | jq '.[] | select(.name=="s1") | .allocation')
[ "$alloc" -le $((8 << 20)) ] || fail "sparse upload allocated $alloc bytes"
sp vol-download s1 "$T/s1.out"; cmp "$T/s1.out" "$T/sparse" || fail "download differs"
[ "$(du -k "$T/s1.out" | cut -f1)" -le 8192 ] || fail "download is not sparse"

step "hostile uploads refused, the volume unchanged"
qemu-img create -q -f qcow2 -b /etc/passwd -F raw "$T/h.qcow2" 64M
qemu-img create -q -f vmdk -o subformat=monolithicFlat "$T/h.vmdk" 1M
sp_fails 1 "qcow2-backing-file" vol-upload s1 "$T/h.qcow2"
sp_fails 1 "unsafe image" vol-upload s1 "$T/h.vmdk"
sp vol-download s1 "$T/s1.again"; cmp "$T/s1.again" "$T/sparse" || fail "refused upload changed s1"
expect_eq "$(images | tr ' ' '\n' | grep -c '^\.safepool-tmp' || true)" 0 "temporaries after refused uploads"

step "8 concurrent creates of one name: exactly one wins, nothing left"
vol_xml race 1048576 >"$T/race.xml"
for i in $(seq 1 8); do
    (rc=0; sp vol-create "$T/race.xml" >/dev/null 2>"$T/race.$i.err" || rc=$?; echo $rc >"$T/race.$i.rc") &
done
wait
expect_eq "$(cat "$T"/race.*.rc | sort | tr -d '\n')" 04444444 "exit codes of 8 creates"
grep -l "exists already" "$T"/race.*.err | wc -l | grep -qx 7 || fail "losers not told 'exists already'"
expect_eq "$(images | tr ' ' '\n' | grep -c '^\.safepool-tmp' || true)" 0 "temporaries after the race"

step "a dead holder: its lock ends with the lease, the sweeper then removes its temporary"
printf '[rbd]\nlock_lease=3\nlock_wait=1\n' >"$POLICY"
create dead $((8 << 20))
mkfifo "$T/upfifo"
# exec: $! is safepool itself
(exec "$SAFEPOOL" --config "$POLICY" vol-upload --pool-xml "$POOLXML" \
    --secret-fd 3 dead - 3< <(printf %s "$KEY") <"$T/upfifo") &
UP=$!
exec 8>"$T/upfifo"
head -c 1M /dev/urandom >&8
for _ in $(seq 1 50); do
    images | grep -q '\.safepool-tmp-upload-' && break; sleep 0.1
done
images | grep -q '\.safepool-tmp-upload-' || fail "no upload temporary"
# the key is nowhere in the live process's argv or environment
for f in /proc/$UP/cmdline /proc/$UP/environ; do
    grep -qaF "$KEY" "$f" && fail "key in $f"
done
kill -KILL "$UP"; exec 8>&-; wait "$UP" 2>/dev/null || true
sp_fails 4 "locked by another operation" vol-delete dead
sp vol-list >/dev/null   # a sweep: the temporary is still leased
images | grep -q '\.safepool-tmp-upload-' || fail "a leased temporary was swept"
sleep 3.5
sp vol-list >/dev/null
images | grep -q '\.safepool-tmp' && fail "dead temporary not swept: $(images)"
sp vol-delete dead
expect_eq "$(images | tr ' ' '\n' | grep -c '^\.safepool-tmp-create-foreign1' || true)" 0 "foreign stale temporary swept"

step "policy: namespace confinement, features"
printf '[rbd]\nnamespaces=rbd/other\n' >"$POLICY"
sp_fails 1 "not among the policy's namespaces" vol-list
printf '[rbd]\nfeatures_allowed=layering;exclusive-lock\nfeatures=layering\n' >"$POLICY"
create f1 1048576
expect_eq "$(rbdc info --format json "rbd/$NS/f1" | jq -r '.features | join(",")')" layering "policy features"
sp_fails 1 "not allowed by the policy" vol-create "$T/v.xml" --features layering,exclusive-lock,object-map

step "an unreachable cluster: a bounded, clear error"
printf '[rbd]\ntimeout=2\n' >"$POLICY"
sed "s/port='$CEPH_MON_PORT'/port='1'/" "$POOLXML" >"$T/dead.xml"
start=$(date +%s.%N)
rc=0; out=$("$SAFEPOOL" --config "$POLICY" vol-list --pool-xml "$T/dead.xml" --secret-fd 3 3< <(printf %s "$KEY") 2>&1) || rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
expect_eq "$rc" 3 "exit code with no monitor"
grep -q "no answer from the Ceph cluster" <<<"$out" || fail "unclear error: $out"
awk -v t="$took" 'BEGIN{exit !(t < 10)}' || fail "took $took s"
echo "   $out (${took} s)"
: >"$POLICY"

step "nothing under the test dir holds the key"
grep -rlaF "$KEY" "$T" --exclude-dir=ceph && fail "key found in a file"
echo PASS
