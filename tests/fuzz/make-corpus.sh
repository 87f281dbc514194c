#!/bin/bash
# Regenerates the inspector's seed corpus (tests/fuzz/corpus/inspect) from
# real images: every format qemu-img writes plus isos, partition tables and
# LUKS headers, each cut to its first KiBs (whole when small) so that the
# corpus stays well under 2 MiB. Run once; the output is committed.
# The fuzz-* files beside the seeds are inputs libFuzzer found new coverage
# with, kept after `fuzz-inspect -merge=1 -max_len=4096 NEW/ GROWN-CORPUS/`;
# this script leaves them alone.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)/corpus/inspect"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir -p "$out"
rm -f "$out"/seed-*

qi() { qemu-img create -q "$@"; }
# keep the first $2 bytes of $1 as seed $3
seed() { head -c "$2" "$1" > "$out/seed-$3"; }

qi -f raw r.raw 64K;                                   seed r.raw 4096 raw
qi -f qcow2 -o compat=0.10 q2.qcow2 1M;                seed q2.qcow2 8192 qcow2-v2
qi -f qcow2 q3.qcow2 1M;                               seed q3.qcow2 8192 qcow2-v3
qi -f qcow2 -o cluster_size=512 qs.qcow2 64K;          seed qs.qcow2 65536 qcow2-small-cluster
qi -f qcow2 -b r.raw -F raw qb.qcow2;                  seed qb.qcow2 8192 qcow2-backing
qi -f qcow2 -o data_file=d.raw qd.qcow2 1M;            seed qd.qcow2 8192 qcow2-data-file
qi -f qcow2 -o extended_l2=on qx.qcow2 1M;             seed qx.qcow2 8192 qcow2-extended-l2
echo -n secret > key
qi --object secret,id=s,file=key -f qcow2 -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=100 qe.qcow2 1M
seed qe.qcow2 8192 qcow2-luks
qi -f qed qed.qed 1M;                                  seed qed.qed 4096 qed
qi -f vmdk vm.vmdk 1M;                                 seed vm.vmdk 12288 vmdk-sparse
qi -f vmdk -o subformat=streamOptimized vs.vmdk 1M;    seed vs.vmdk 12288 vmdk-stream
qi -f vmdk -o subformat=monolithicFlat vf.vmdk 1M;     seed vf.vmdk 4096 vmdk-flat-descriptor
qi -f vmdk -o subformat=twoGbMaxExtentSparse vt.vmdk 1M; seed vt.vmdk 4096 vmdk-2gb-descriptor
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/passwd" 0\n' > "$out/seed-vmdk-passwd"
qi -f vpc -o subformat=fixed vf.vhd 64K;               seed vf.vhd 100000 vhd-fixed
qi -f vpc vd.vhd 1M;                                   seed vd.vhd 8192 vhd-dynamic
qi -f vhdx vx.vhdx 1M;                                 seed vx.vhdx $((320 * 1024)) vhdx
qi -f vdi vdi.vdi 1M;                                  seed vdi.vdi 4096 vdi
qi --object secret,id=s,file=key -f luks -o key-secret=s,iter-time=100 l.luks 1M
seed l.luks 4096 luks-qemu
truncate -s 20M c2.luks
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file key c2.luks
seed c2.luks 16384 luks2
mkdir iso && echo hi > iso/a
xorriso -as mkisofs -quiet -o a.iso iso 2>/dev/null;  seed a.iso 40960 iso
truncate -s 1M g.img; sgdisk -n 1:34:2000 g.img >/dev/null; seed g.img 8192 gpt
truncate -s 1M m.img; printf 'label: dos\nstart=64,size=100,type=83,bootable\n' | sfdisk -q --no-reread --no-tell-kernel m.img
seed m.img 4096 mbr
# vmdk images qemu opens other files from: capacity 0 with a descriptor,
# a parent hint behind "ddb."; foreign signatures qemu probes
cp vm.vmdk vz.vmdk; printf '\0\0\0\0\0\0\0\0' | dd of=vz.vmdk bs=1 seek=12 conv=notrunc status=none
printf '\0\0\0\0\0\0\0\0' | dd of=vz.vmdk bs=1 seek=36 conv=notrunc status=none
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/passwd" 0\n\0' | dd of=vz.vmdk bs=1 seek=512 conv=notrunc status=none
seed vz.vmdk 12288 vmdk-zero-capacity
cp vm.vmdk vp.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\nddb.parentFileNameHint="/etc/passwd"\nRW 2048 SPARSE "vp.vmdk"\n\0' | dd of=vp.vmdk bs=1 seek=512 conv=notrunc status=none
seed vp.vmdk 12288 vmdk-ddb-parent
qi -f parallels par.img 1M;                            seed par.img 4096 parallels
printf 'Bochs Virtual HD Image' > "$out/seed-bochs"
printf '#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n' > "$out/seed-cloop"
ls -la "$out"
du -sh "$out"
