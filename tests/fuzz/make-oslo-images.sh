#!/bin/bash
# Writes a representative set of real and hostile images into DIR for
# tests/fuzz/oslo-diff.py, which compares safepool's inspector with
# OpenStack oslo.utils' format_inspector on them: every format qemu-img
# creates (with backing files, data files and every vmdk subformat), isos
# with and without MBR/GPT (xorriso), UDF (mkudffs), partition tables
# (sgdisk/sfdisk) with the MBR quirks either inspector checks, FAT
# filesystems (mkfs.fat), LUKS (cryptsetup), the hostile images of
# tests/inspect/inspect-test-images.c redone in shell, and images holding
# two formats' signatures (a qcow2 with an ISO 9660 descriptor at 32 KiB).
# Nothing here is committed output: DIR is scratch space.
#
# Usage: tests/fuzz/make-oslo-images.sh DIR
# Needs qemu-img, xorriso, sgdisk, sfdisk, cryptsetup, python3; mkfs.fat
# (dosfstools) and mkudffs (udftools) are optional.
set -euo pipefail
[ $# = 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

qi() { qemu-img create -q "$@"; }
have() { command -v "$1" >/dev/null 2>&1; }
# patch FILE OFFSET HEX: overwrite bytes at OFFSET with the hex string
patch() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, off, data = sys.argv[1], int(sys.argv[2], 0), bytes.fromhex(sys.argv[3])
with open(path, 'r+b') as f:
    f.seek(off)
    f.write(data)
EOF
}
# patch_str FILE OFFSET STRING (printf escapes allowed, NUL-terminated)
patch_str() {
    # shellcheck disable=SC2059 # the string's escapes are the point
    printf "$3\\0" | dd of="$1" bs=1 seek="$(($2))" conv=notrunc status=none
}
zeros() { rm -f "$1"; truncate -s "$2" "$1"; }

echo -n secret > "$tmp/key"
sec=(--object "secret,id=s,file=$tmp/key")

# --- every format qemu-img creates -------------------------------------
qi -f raw raw.raw 1M
qi -f qcow2 -o compat=0.10 qcow2-v2.qcow2 1M
qi -f qcow2 qcow2-v3.qcow2 1M
qi -f qcow2 -o cluster_size=512 qcow2-cluster512.qcow2 1M
qi -f qcow2 -o extended_l2=on qcow2-extended-l2.qcow2 1M
qi -f qcow2 -o compression_type=zstd qcow2-zstd.qcow2 1M
qi -f qcow2 -o lazy_refcounts=on qcow2-lazy-refcounts.qcow2 1M
qi -f raw backing-base.raw 1M
qi -f qcow2 -b backing-base.raw -F raw qcow2-backing.qcow2
qi -f qcow2 -b /etc/hostname -F raw qcow2-backing-abs.qcow2 1M
qi -f qcow2 -o data_file=qcow2-data-file.data qcow2-data-file.qcow2 1M
qi "${sec[@]}" -f qcow2 -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10 \
    qcow2-luks-encrypted.qcow2 1M
qi -f qcow qcow1.qcow 1M
qi -f qed qed.qed 1M
qi -f qed -b backing-base.raw -F raw qed-backing.qed
qi -f vmdk vmdk-monolithicSparse.vmdk 1M
qi -f vmdk -o subformat=streamOptimized vmdk-streamOptimized.vmdk 1M
qi -f vmdk -o subformat=monolithicFlat vmdk-monolithicFlat.vmdk 1M
qi -f vmdk -o subformat=twoGbMaxExtentSparse vmdk-twoGbMaxExtentSparse.vmdk 1M
qi -f vmdk -o subformat=twoGbMaxExtentFlat vmdk-twoGbMaxExtentFlat.vmdk 1M
qi -f vmdk backing-base.vmdk 1M
qi -f vmdk -b backing-base.vmdk -F vmdk vmdk-backing.vmdk
qi -f vpc vhd-dynamic.vhd 1M
qi -f vpc -o subformat=fixed vhd-fixed.vhd 1M
qi -f vpc -o force_size=on vhd-force-size.vhd 1M
qi -f vhdx vhdx-dynamic.vhdx 1M
qi -f vhdx -o subformat=fixed vhdx-fixed.vhdx 1M
qi -f vdi vdi-dynamic.vdi 1M
qi -f vdi -o static=on vdi-static.vdi 1M
qi "${sec[@]}" -f luks -o key-secret=s,iter-time=10 luks-qemu.luks 1M
qi -f parallels parallels.img 1M

# --- LUKS from cryptsetup -------------------------------------------------
for v in 1 2; do
    zeros "luks$v-cryptsetup.img" 20M
    cryptsetup luksFormat --batch-mode --type "luks$v" --pbkdf pbkdf2 \
        --pbkdf-force-iterations 1000 --key-file "$tmp/key" "luks$v-cryptsetup.img"
done
# a LUKS1 volume cut before its payload (it_build_cut_luks)
zeros luks1-cut.img 4M
cryptsetup luksFormat --batch-mode --type luks1 --pbkdf pbkdf2 \
    --pbkdf-force-iterations 1000 --key-file "$tmp/key" luks1-cut.img
truncate -s 1M luks1-cut.img

# --- isos, UDF ------------------------------------------------------------
mkdir -p "$tmp/iso" && echo hi > "$tmp/iso/a"
zeros "$tmp/efi.img" 2M
if have mkfs.fat; then mkfs.fat "$tmp/efi.img" >/dev/null; fi
xo() { xorriso -as mkisofs -quiet "$@" 2>/dev/null; }
xo -o iso-plain.iso "$tmp/iso"
xo -o iso-protective-msdos.iso --protective-msdos-label "$tmp/iso"
xo -o iso-partition-offset.iso -partition_offset 16 "$tmp/iso"
xo -o iso-appended-mbr.iso -append_partition 2 0xef "$tmp/efi.img" "$tmp/iso"
xo -o iso-appended-gpt.iso -append_partition 2 0xef "$tmp/efi.img" \
    -appended_part_as_gpt "$tmp/iso"
cp "$tmp/efi.img" "$tmp/iso/efi.img"
# isohybrid as Debian/Ubuntu isos are made (syslinux's isohdpfx.bin boot code
# replaced by zeros): MBR with a bootable type-0 entry and an 0xEF one, GPT
head -c 432 /dev/zero > "$tmp/isohdpfx.bin"
xo -o iso-isohybrid-gpt-basdat.iso -isohybrid-mbr "$tmp/isohdpfx.bin" -e efi.img \
    -no-emul-boot -isohybrid-gpt-basdat "$tmp/iso"
rm "$tmp/iso/efi.img"
# PVD fields oslo sizes an ISO from: volume space size (LE32 at 80) and
# logical block size (LE16 at 128) of the descriptor at 32 KiB
cp iso-plain.iso iso-pvd-huge-size.iso
patch iso-pvd-huge-size.iso $((32768 + 80)) ffffffff
cp iso-plain.iso iso-pvd-zero-blocksize.iso
patch iso-pvd-zero-blocksize.iso $((32768 + 128)) 0000
# a boot record (type 0) at sector 16, the PVD at 17
cp iso-plain.iso iso-boot-record-first.iso
python3 - iso-boot-record-first.iso <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(32768)
    pvd = f.read(2048)
    f.seek(32768)
    f.write(b'\x00CD001\x01EL TORITO SPECIFICATION'.ljust(2048, b'\0'))
    f.write(pvd)
    f.write(b'\xffCD001\x01'.ljust(2048, b'\0'))
EOF
if have mkudffs; then
    zeros udf-mkudffs.img 4M
    mkudffs --media-type=hd udf-mkudffs.img >/dev/null 2>&1 || rm -f udf-mkudffs.img
fi
# UDF volume recognition sequence only: BEA01 at sector 16, NSR02 at 17
zeros udf-vrs-only.img 1M
patch_str udf-vrs-only.img 32768 '\000BEA01\001'
patch_str udf-vrs-only.img 34816 '\000NSR02\001'
patch_str udf-vrs-only.img 36864 '\000TEA01\001'

# --- partition tables -------------------------------------------------------
zeros gpt-sgdisk.img 4M; sgdisk -n 1:2048:6143 -t 1:8300 gpt-sgdisk.img >/dev/null
zeros mbr-sfdisk.img 4M
sfdisk -q --no-reread --no-tell-kernel mbr-sfdisk.img \
    <<<$'label: dos\nstart=2048,size=4096,type=83,bootable\n'
zeros mbr-extended.img 8M
sfdisk -q --no-reread --no-tell-kernel mbr-extended.img \
    <<<$'label: dos\nstart=2048,size=4096,type=83\nstart=6144,size=8192,type=5\nstart=8192,size=2048,type=83\n'
zeros mbr-no-partitions.img 4M
sfdisk -q --no-reread --no-tell-kernel mbr-no-partitions.img <<<$'label: dos\n'
zeros mbr-slot4-only.img 4M
sfdisk -q --no-reread --no-tell-kernel mbr-slot4-only.img \
    <<<$'label: dos\nstart=2048,size=4096,type=83\n'
python3 - mbr-slot4-only.img <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(446); e = f.read(16)
    f.seek(446); f.write(b'\0' * 16)
    f.seek(446 + 48); f.write(e)
EOF
# it_build_bad_boot_flag
cp mbr-sfdisk.img mbr-bad-boot-flag.img; patch mbr-bad-boot-flag.img 446 12
# it_build_hybrid_gpt: protective 0xEE plus a Linux entry
cp gpt-sgdisk.img gpt-hybrid-mbr.img; patch gpt-hybrid-mbr.img $((446 + 16 + 4)) 83
cp gpt-sgdisk.img gpt-pmbr-start-lba-2.img; patch gpt-pmbr-start-lba-2.img $((446 + 8)) 02000000
cp gpt-sgdisk.img gpt-pmbr-bad-chs.img; patch gpt-pmbr-bad-chs.img $((446 + 1)) 000300
cp gpt-sgdisk.img gpt-pmbr-bootable.img; patch gpt-pmbr-bootable.img 446 80
cp gpt-sgdisk.img gpt-pmbr-in-slot2.img
python3 - gpt-pmbr-in-slot2.img <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(446); e = f.read(16)
    f.seek(446); f.write(b'\0' * 16 + e)
EOF
cp gpt-sgdisk.img gpt-no-pmbr-entry.img; patch gpt-no-pmbr-entry.img 446 "$(printf '0%.0s' {1..32})"
# a GPT header with no 0x55AA: neither inspector sees a partition table
cp gpt-sgdisk.img gpt-no-mbr-signature.img; patch gpt-no-mbr-signature.img 510 0000

# --- bare filesystems whose boot sector ends in 0x55AA --------------------
if have mkfs.fat; then
    zeros fat12-floppy.img 1440K; mkfs.fat -F 12 fat12-floppy.img >/dev/null
    zeros fat16.img 16M; mkfs.fat -F 16 fat16.img >/dev/null
    zeros fat32.img 40M; mkfs.fat -F 32 fat32.img >/dev/null
    zeros fat16-one-fat.img 16M; mkfs.fat -F 16 -f 1 fat16-one-fat.img >/dev/null
    zeros fat32-mbr.img 40M; mkfs.fat -F 32 --mbr=y fat32-mbr.img >/dev/null
fi
# an NTFS boot sector (no FAT count, media 0xF8)
zeros ntfs-bootsector.img 1M
patch ntfs-bootsector.img 0 eb52904e5446532020202000020800000000000000f8
patch ntfs-bootsector.img 510 55aa
zeros ext4.img 4M; mkfs.ext4 -q -F ext4.img

# --- two formats' signatures in one file --------------------------------
# a qcow2 whose bytes at 32 KiB carry an ISO 9660 primary volume descriptor
cp qcow2-v3.qcow2 qcow2-with-iso-pvd.qcow2
dd if=iso-plain.iso of=qcow2-with-iso-pvd.qcow2 bs=2048 skip=16 seek=16 count=1 \
    conv=notrunc status=none
# the same with 512-byte clusters: 32 KiB is then past the header cluster
cp qcow2-cluster512.qcow2 qcow2-cluster512-with-iso-pvd.qcow2
dd if=iso-plain.iso of=qcow2-cluster512-with-iso-pvd.qcow2 bs=2048 skip=16 seek=16 \
    count=1 conv=notrunc status=none
# a qcow2 with 0x55AA at 510 (an MBR signature)
cp qcow2-v3.qcow2 qcow2-with-mbr-signature.qcow2; patch qcow2-with-mbr-signature.qcow2 510 55aa
# an iso whose first bytes are a qcow2 header naming /etc/shadow
cp iso-plain.iso iso-with-qcow2-header.iso
head -c 512 qcow2-backing-abs.qcow2 | dd of=iso-with-qcow2-header.iso conv=notrunc status=none
# a raw disk with a VHD footer copied to its end (a fixed VHD)
zeros raw-vhd-footer.img 1M
tail -c 512 vhd-fixed.vhd >> raw-vhd-footer.img
# it_build_shadow_raw: a "raw" disk whose first sector is a qcow2 header
# naming /etc/shadow as its backing file
zeros raw-qcow2-shadow.img 1M
python3 - raw-qcow2-shadow.img <<'EOF'
import struct, sys
h = bytearray(512)
t = b'/etc/shadow'
struct.pack_into('>4sIQIIQIIQQI', h, 0, b'QFI\xfb', 2, 0x100, len(t), 16,
                 1 << 20, 0, 1, 0x10000, 0x20000, 1)
h[0x100:0x100 + len(t)] = t
with open(sys.argv[1], 'r+b') as f:
    f.write(h)
EOF

# --- qcow2 header quirks ----------------------------------------------------
cp qcow2-v3.qcow2 qcow2-corrupt-bit.qcow2; patch qcow2-corrupt-bit.qcow2 79 02
cp qcow2-v3.qcow2 qcow2-unknown-incompat-bit5.qcow2; patch qcow2-unknown-incompat-bit5.qcow2 79 20
cp qcow2-v3.qcow2 qcow2-version4.qcow2; patch qcow2-version4.qcow2 4 00000004
# the data-file extension without the incompatible bit (qemu ignores it)
cp qcow2-data-file.qcow2 qcow2-data-file-ext-no-bit.qcow2; patch qcow2-data-file-ext-no-bit.qcow2 79 00
# the incompatible data-file bit without the extension
cp qcow2-v3.qcow2 qcow2-data-file-bit-only.qcow2; patch qcow2-data-file-bit-only.qcow2 79 04
# backing file size set, offset 0
cp qcow2-v3.qcow2 qcow2-backing-size-only.qcow2; patch qcow2-backing-size-only.qcow2 16 0000000b
# it_build_truncated_qcow2
qi -f qcow2 qcow2-truncated-60.qcow2 4M; truncate -s 60 qcow2-truncated-60.qcow2
# L1 table past the end of the file
cp qcow2-v3.qcow2 qcow2-l1-beyond-eof.qcow2; patch qcow2-l1-beyond-eof.qcow2 40 0000001000000000

# --- vmdk: hostile descriptors ----------------------------------------------
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/passwd" 0\n' \
    > vmdk-descriptor-passwd.vmdk
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 2048 SPARSE "sibling.img"\n' \
    > vmdk-descriptor-sparse-sibling.vmdk
sparse_desc() { # FILE DESCRIPTOR: a 1 MiB monolithicSparse with its own descriptor
    qi -f vmdk "$1" 1M
    patch_str "$1" 512 "$2"
}
b=vmdk-two-extents.vmdk
sparse_desc $b "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\nRW 2048 SPARSE \"$b\"\nRW 2048 SPARSE \"$b\"\nddb.adapterType = \"ide\"\n"
b=vmdk-ddb-parent.vmdk
sparse_desc $b "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\nddb.parentFileNameHint=\"/etc/shadow\"\nRW 2048 SPARSE \"$b\"\n"
b=vmdk-parent-hint.vmdk
sparse_desc $b "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=12345678\ncreateType=\"monolithicSparse\"\nparentFileNameHint=\"/etc/shadow\"\nRW 2048 SPARSE \"$b\"\n"
b=vmdk-parent-hint-in-comment.vmdk
sparse_desc $b "# Disk DescriptorFile parentFileNameHint=\"/etc/shadow\"\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\nRW 2048 SPARSE \"$b\"\n"
b=vmdk-sparse-flat-extent.vmdk
sparse_desc $b "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\nRW 2048 FLAT \"sibling.img\" 0\n"
# it_build_zero_capacity_vmdk: capacity 0 and descriptor size 0, so qemu
# opens the embedded descriptor as a descriptor file
zc() { # FILE CREATETYPE EXTENT
    qi -f vmdk "$1" 1M
    patch "$1" 12 0000000000000000
    patch "$1" 36 0000000000000000
    patch_str "$1" 512 "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"$2\"\n$3\n"
}
zc vmdk-zero-capacity-shadow.vmdk monolithicFlat 'RW 2048 FLAT "/etc/shadow" 0'
zc vmdk-zero-capacity-sibling.vmdk monolithicSparse 'RW 2048 FLAT "sibling.img" 0'
qi -f raw sibling.img 1M
# Descriptors oslo and qemu read differently. oslo lower-cases the text
# and takes the first 'createtype="', qemu's strstr wants "createType";
# qemu skips extent lines that are not RW with a file name, oslo counts
# them; oslo parses only its first read of a descriptor-only file (4 KiB in
# detect_file_format) and only desc_size sectors of an embedded one, qemu
# up to the NUL. Each passes oslo's check yet qemu opens /etc/hostname as a
# FLAT extent (harmless target so `qemu-img info` can show it).
python3 - vmdk-descriptor-createtype-case.vmdk <<'EOF2'
import sys
seen = (b'# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
        b'createtype="monolithicSparse"\nRDONLY 2048 ZERO\n')
seen += b'#' * (4200 - len(seen)) + b'\n'
hidden = b'createType="monolithicFlat"\nRW 2048 FLAT "/etc/hostname" 0\n'
open(sys.argv[1], 'wb').write(seen + hidden)
EOF2
qi -f vmdk vmdk-zero-capacity-desc-size.vmdk 1M
python3 - vmdk-zero-capacity-desc-size.vmdk <<'EOF2'
import struct, sys
seen = (b'# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
        b'createtype="monolithicSparse"\nRDONLY 2048 ZERO\n')
seen += b'#' * (511 - len(seen)) + b'\n'
hidden = b'createType="monolithicFlat"\nRW 2048 FLAT "/etc/hostname" 0\n\0'
with open(sys.argv[1], 'r+b') as f:
    f.seek(12); f.write(struct.pack('<Q', 0))   # capacity 0
    f.seek(28); f.write(struct.pack('<QQ', 1, 1))  # descriptor: sector 1, 1 sector
    f.seek(512); f.write(seen + hidden)
EOF2
# A descriptor with a non-ASCII byte in its first comment: oslo's vmdk
# inspector gives up (not ASCII) and oslo calls the file raw; qemu's probe
# skips comment lines, reads it as a vmdk and opens the FLAT extent.
printf '# Disk DescriptorFile \351\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/hostname" 0\n' \
    > vmdk-descriptor-nonascii-comment.vmdk
# Plain text, then UTF-8 before the first NUL: oslo's vmdk inspector
# leaves vmdktype unset and format_match raises AttributeError
python3 - text-utf8.img <<'EOF2'
import sys
text = 'This disk image starts with plain text. ' * 16 + 'caf\u00e9\n'
open(sys.argv[1], 'wb').write(text.encode() + bytes(1024))
EOF2
# it_build_stream_footer: grain directory at the end, footer agreeing or not
stream_footer() { # FILE AGREE
    qi -f vmdk -o subformat=streamOptimized "$1" 10M
    python3 - "$1" "$2" <<'EOF'
import struct, sys
path, agree = sys.argv[1], sys.argv[2] == '1'
with open(path, 'r+b') as f:
    data = f.read()
    tail = bytearray(1536)
    struct.pack_into('<I', tail, 12, 3)          # footer marker
    tail[512:1024] = data[:512]                  # footer = header ...
    if not agree:
        struct.pack_into('<Q', tail, 512 + 12, 4096)  # ... 2 MiB
    f.seek(56); f.write(struct.pack('<Q', 0xffffffffffffffff))
    f.seek(len(data)); f.write(tail)
EOF
}
stream_footer vmdk-stream-footer-agree.vmdk 1
stream_footer vmdk-stream-footer-mismatch.vmdk 0

# --- vhd / vhdx / vdi quirks -------------------------------------------------
cp vhd-dynamic.vhd vhd-differencing.vhd; patch vhd-differencing.vhd 60 00000004
cp vhd-dynamic.vhd vhd-bad-type.vhd; patch vhd-bad-type.vhd 60 00000007
# both vhdx region tables without their signature
cp vhdx-dynamic.vhdx vhdx-bad-region-sig.vhdx
patch vhdx-bad-region-sig.vhdx $((192 * 1024)) 58585858
patch vhdx-bad-region-sig.vhdx $((256 * 1024)) 58585858
cp vhdx-dynamic.vhdx vhdx-truncated-100k.vhdx; truncate -s 100K vhdx-truncated-100k.vhdx
cp vdi-dynamic.vdi vdi-differencing.vdi; patch vdi-differencing.vdi $((0x4c)) 04000000
cp vdi-dynamic.vdi vdi-bad-version.vdi; patch vdi-bad-version.vdi $((0x44)) 00000200

# --- foreign formats qemu probes -----------------------------------------
zeros bochs-raw.img 1M
python3 - bochs-raw.img <<'EOF'
import struct, sys
h = bytearray(512)
h[0:22] = b'Bochs Virtual HD Image'
h[32:39] = b'Redolog'
h[48:55] = b'Growing'
struct.pack_into('<I', h, 64, 0x00020000)
with open(sys.argv[1], 'r+b') as f:
    f.write(h)
EOF

find . -maxdepth 1 -type f | wc -l | xargs echo "images in $out:"
