#!/bin/bash
# Regenerates the seed corpora of the text targets from the project's own
# test data plus small hand-written variants: tests/fuzz/corpus/volume
# (tests/data/vol-valid, vol-invalid, xml/*.xml), corpus/policy (the
# documented policy, the test policy, one variant per key group and
# error) and corpus/domain (seclabels, TPMs, uuids, DOCTYPEs, big ones).
# Run once; the output is committed. Files named fuzz-* or crash-* (inputs
# libFuzzer found, kept after a -set_cover_merge, see meson.build, and
# reproducers of fixed findings) are left alone.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="$top/tests/fuzz/corpus"

# ---- volume XML ----------------------------------------------------------
out="$corpus/volume"
mkdir -p "$out"
rm -f "$out"/seed-*
for f in "$top"/tests/data/vol-valid/*.xml; do
    cp "$f" "$out/seed-valid-$(basename "$f" .xml)"
done
for f in "$top"/tests/data/vol-invalid/*.xml; do
    cp "$f" "$out/seed-invalid-$(basename "$f" .xml)"
done
for f in "$top"/xml/*.xml; do
    cp "$f" "$out/seed-xml-$(basename "$f" .xml)"
done
# every element and attribute the walk knows, in one volume
cat > "$out/seed-everything" <<'EOF'
<volume type='file'>
  <name>all.qcow2</name>
  <key>/srv/pool/all.qcow2</key>
  <source><device path='/dev/sda'><extent start='0' end='1'/></device></source>
  <capacity unit='G'>1</capacity>
  <allocation unit='KB'>0</allocation>
  <physical unit='bytes'>0</physical>
  <target>
    <path>/srv/pool/all.qcow2</path>
    <format type='qcow2'/>
    <permissions><mode>0640</mode><owner>107</owner><group>-1</group>
      <label>system_u:object_r:virt_image_t:s0:c1,c2</label></permissions>
    <timestamps><atime>1.5</atime><btime>2</btime><ctime>3.123456789</ctime><mtime>4</mtime></timestamps>
    <encryption format='luks' engine='qemu'>
      <secret type='passphrase' uuid='0123456789abcdef0123456789abcdef'/>
      <cipher name='aes' size='256' mode='xts' hash='sha256'/>
      <ivgen name='plain64' hash='sha256'/>
    </encryption>
    <compat>1.1</compat>
    <clusterSize unit='KiB'>64</clusterSize>
    <nocow/>
    <features><lazy_refcounts/><extended_l2/></features>
  </target>
  <backingStore>
    <path>/srv/base/b.qcow2</path>
    <format type='qcow2'/>
    <permissions><mode>0600</mode></permissions>
    <timestamps><mtime>1</mtime></timestamps>
  </backingStore>
</volume>
EOF

# ---- policy key file ---------------------------------------------------
out="$corpus/policy"
mkdir -p "$out"
rm -f "$out"/seed-*
cp "$top/xml/safepool.conf" "$out/seed-documented"
cp "$top/tests/data/policy-test.conf" "$out/seed-test"
# the documented file with every key uncommented (each group, all keys)
sed -e 's/^#\([a-z_]*=\)/\1/' "$top/xml/safepool.conf" > "$out/seed-all-keys"
p() { printf '%b' "$2" > "$out/seed-$1"; }
p empty ''
p volumes '[volumes]\nformats=raw;qcow2;vmdk;vpc;vhdx;vdi\nmax_capacity=1T\ndefault_mode=0640\nallowed_owners=root;+107;0\nallowed_groups=root;kvm\nbacking_roots=/srv/base;/var/lib/images/\n'
p pools '[pools]\nallow_shared_write=true\n'
p inspector '[inspector]\nallow_extended_l2=false\nluks_versions=2\nmax_image_read=64KiB\n'
p qemu-img '[qemu-img]\nqemu_img=/usr/local/bin//qemu-img\ntimeout=60\ncpu_limit=30\naddress_space_limit=2GB\n'
p luks '[luks]\ncipher_alg=aes-128\ncipher_mode=cbc\nhash=sha512\nivgen_alg=essiv\nivgen_hash=sha256\niter_time=100\n'
p vtpm '[vtpm]\nroot=/var/lib/libvirt/swtpm\nswtpm_user=tss\nswtpm_group=tss\nqemu_conf=/etc/libvirt/qemu.conf\narchive_max_size=1M\n'
p unknown-key '[volumes]\nformat=raw\n'
p unknown-group '[volume]\nformats=raw\n'
p key-outside-group 'formats=raw\n'
p duplicate-key '[volumes]\nformats=raw\nformats = qcow2\n'
p duplicate-group '[volumes]\nformats=raw\n[pools]\n[volumes]\nformats=qcow2\n'
p size-suffixes '[volumes]\nmax_capacity=16TiB\n[inspector]\nmax_image_read=1b\n[vtpm]\narchive_max_size=3e\n'
p size-overflow '[volumes]\nmax_capacity=99999999999999999999\n'
p size-overflow-scaled '[volumes]\nmax_capacity=17E\n'
p size-fraction '[volumes]\nmax_capacity=1.5G\n'
p size-negative '[volumes]\nmax_capacity=-1\n'
p size-suffix-bad '[inspector]\nmax_image_read=1Q\n'
p format-unknown '[volumes]\nformats=raw;qed\n'
p format-escaped '[volumes]\nformats=raw\\;qcow2;\\s\n'
p mode-setuid '[volumes]\ndefault_mode=4600\n'
p mode-world-writable '[volumes]\ndefault_mode=0666\n'
p mode-not-octal '[volumes]\ndefault_mode=0x1ff\n'
p owner-missing '[volumes]\nallowed_owners=no-such-user-here\n'
p group-numeric '[volumes]\nallowed_groups=+4294967294;4294967295\n'
p backing-root-slash '[volumes]\nbacking_roots=/\n'
p backing-root-dotdot '[volumes]\nbacking_roots=/srv/../etc\n'
p backing-root-relative '[volumes]\nbacking_roots=srv\n'
p bool-bad '[inspector]\nallow_extended_l2=yes\n'
p luks-versions-bad '[inspector]\nluks_versions=1;3\n'
p qemu-img-relative '[qemu-img]\nqemu_img=qemu-img\n'
p timeout-zero '[qemu-img]\ntimeout=0\n'
p timeout-huge '[qemu-img]\ntimeout=4294968\n'
p cipher-space '[luks]\ncipher_alg=aes 256\n'
p cipher-comma '[luks]\ncipher_mode=xts,key-secret=x\n'
p swtpm-user-empty '[vtpm]\nswtpm_user=\nswtpm_group=\n'
p comments-blank-crlf '# comment\r\n\r\n[pools]\r\nallow_shared_write=false\r\n'
p locale-key '[luks]\nhash[de]=sha256\n'
p not-utf8 '[vtpm]\nswtpm_user=\xff\xfe\n'
p nul-byte '[vtpm]\nswtpm_user=tss\x00\nswtpm_group=tss\n'

# ---- domain XML ----------------------------------------------------------
out="$corpus/domain"
mkdir -p "$out"
rm -f "$out"/seed-*
U=6b1f0e1c-8e3b-4f0a-9c7e-1234567890ab
d() { printf '%s' "$2" > "$out/seed-$1"; }
d selinux-dynamic "<domain type='kvm'>
  <name>vm1</name>
  <uuid>$U</uuid>
  <devices><tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm></devices>
  <seclabel type='dynamic' model='selinux' relabel='yes'>
    <label>system_u:system_r:svirt_t:s0:c10,c20</label>
    <imagelabel>system_u:object_r:svirt_image_t:s0:c10,c20</imagelabel>
  </seclabel>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <label>+64055:+994</label><imagelabel>+64055:+994</imagelabel>
  </seclabel>
</domain>
"
d selinux-static "<domain type='kvm'><name>vm2</name><uuid>$U</uuid>
<seclabel type='static' model='selinux' relabel='no'><label>system_u:system_r:svirt_t:s0-s0:c0.c1023</label></seclabel>
<devices><tpm model='tpm-tis'><backend type='emulator' version='1.2'/></tpm></devices></domain>"
d selinux-none "<domain><uuid>$U</uuid><seclabel type='none' model='selinux'/></domain>"
d seclabel-none "<domain><uuid>$U</uuid><seclabel type='none'/></domain>"
d dac-only "<domain><uuid>$U</uuid><seclabel type='static' model='dac' relabel='yes'><label>libvirt-qemu:kvm</label></seclabel></domain>"
d selinux-label-bad "<domain><uuid>$U</uuid><seclabel model='selinux'><imagelabel>system_u:object_r</imagelabel></seclabel></domain>"
d selinux-label-newline "<domain><uuid>$U</uuid><seclabel model='selinux'><label>system_u:system_r:svirt_t:s0&#10;forged</label></seclabel></domain>"
d tpm-crb-no-version "<domain><uuid>$U</uuid><devices><tpm model='tpm-crb'><backend type='emulator'/></tpm></devices></domain>"
d tpm-tis-no-version "<domain><uuid>$U</uuid><devices><tpm model='tpm-tis'><backend type='emulator'/></tpm></devices></domain>"
d tpm-spapr "<domain><uuid>$U</uuid><devices><tpm model='tpm-spapr'><backend type='emulator'/></tpm></devices></domain>"
d tpm-passthrough "<domain><uuid>$U</uuid><devices><tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm></devices></domain>"
d tpm-two "<domain><uuid>$U</uuid><devices><tpm model='tpm-tis'><backend type='emulator' version='1.2'/></tpm><tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm></devices></domain>"
d uuid-missing "<domain><name>no-uuid</name></domain>"
d uuid-no-dashes "<domain><uuid>6B1F0E1C8E3B4F0A9C7E1234567890AB</uuid></domain>"
d uuid-bad "<domain><uuid>6b1f0e1c-8e3b-4f0a-9c7e-1234567890a</uuid></domain>"
d uuid-empty "<domain><uuid/></domain>"
d uuid-spaces "<domain><uuid>
   $U
</uuid></domain>"
d name-control "<domain><uuid>$U</uuid><name>a&#9;b</name></domain>"
d root-not-domain "<volume><uuid>$U</uuid></volume>"
d namespaced "<domain xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'><uuid>$U</uuid><q:seclabel model='selinux'><q:label>x</q:label></q:seclabel></domain>"
d doctype-entities '<?xml version="1.0"?>
<!DOCTYPE domain [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<domain><uuid>'"$U"'</uuid><name>&c;</name></domain>'
d doctype-external '<?xml version="1.0"?>
<!DOCTYPE domain SYSTEM "file:///etc/passwd">
<domain><uuid>'"$U"'</uuid></domain>'
d xxe-system '<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/shadow">]>
<domain><uuid>'"$U"'</uuid><name>&x;</name></domain>'
d entity-undefined "<domain><uuid>$U</uuid><name>&undefined;</name></domain>"
d cdata "<domain><uuid><![CDATA[$U]]></uuid></domain>"
d malformed "<domain><uuid>$U</uuid>"
d not-utf8 "$(printf '<?xml version="1.0" encoding="ISO-8859-1"?><domain><uuid>%s</uuid><name>\xe9</name></domain>' "$U")"
# big: many devices, and nesting past libxml2's depth limit
{
    printf "<domain type='kvm'><name>big</name><uuid>%s</uuid><devices>\n" "$U"
    for i in $(seq 1 1500); do
        printf "<disk type='file' device='disk'><source file='/srv/pool/d%d.qcow2'/><target dev='vd%d'/></disk>\n" "$i" "$i"
    done
    printf "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm></devices></domain>\n"
} > "$out/seed-huge-devices"
{
    printf '<domain><uuid>%s</uuid>' "$U"
    for _ in $(seq 1 300); do printf '<a>'; done
    for _ in $(seq 1 300); do printf '</a>'; done
    printf '</domain>\n'
} > "$out/seed-huge-depth"

ls "$corpus"/volume | wc -l
ls "$corpus"/policy | wc -l
ls "$corpus"/domain | wc -l
du -sh "$corpus"/volume "$corpus"/policy "$corpus"/domain
