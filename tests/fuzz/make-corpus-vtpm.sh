#!/bin/bash
# Regenerates the vTPM archive seed corpus (tests/fuzz/corpus/vtpm-archive):
# archives `safepool vtpm save` wrote from real states (swtpm_setup's TPM 2
# and TPM 1.2 states when it runs, else small written files; one with a
# subdirectory), and hostile variants built from the TPM 2 one with
# Python's tarfile (pax, as save writes): no/late/duplicate manifest,
# symlinks, hard links, devices, fifos, '..' and absolute paths, wrong
# sha256 and sizes, huge and sparse sizes, duplicate, unlisted and missing
# entries, truncation, compression, other tar dialects and manifests that
# break each rule of sp_vtpm_manifest_parse. Run once as root with a built
# safepool ($SAFEPOOL_BIN, default build/src/tools/safepool); the output is
# committed. Files named fuzz-* or crash-* are left alone.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
out="$top/tests/fuzz/corpus/vtpm-archive"
bin=${SAFEPOOL_BIN:-$top/build/src/tools/safepool}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/seed-*

# Owners come from the restoring policy, so root:root here is fine.
printf '[vtpm]\nswtpm_user=root\nswtpm_group=root\n' > "$tmp/safepool.conf"
export SAFEPOOL_CONFIG="$tmp/safepool.conf"
root="$tmp/root"
mkdir "$tmp/home"

# state UUID VERSION SETUP-ARGS...: a saved state as seed-valid-NAME
state() {
    local name=$1 uuid=$2 version=$3 dir
    shift 3
    dir=$( [ "$version" = 1.2 ] && echo tpm1.2 || echo tpm2 )
    printf "<domain><name>%s</name><uuid>%s</uuid><devices><tpm model='tpm-tis'><backend type='emulator' version='%s'/></tpm></devices></domain>" \
        "$name" "$uuid" "$version" > "$tmp/$name.xml"
    "$bin" vtpm create --root "$root" --domain-xml "$tmp/$name.xml" >/dev/null
    if ! HOME="$tmp/home" timeout 120 swtpm_setup "$@" --tpmstate "$root/$uuid/$dir" \
            --createek >/dev/null 2>&1; then
        echo "swtpm_setup failed: writing $name by hand" >&2
        printf 'permall-bytes-as-swtpm-would-write' > "$root/$uuid/$dir/tpm-00.permall"
        : > "$root/$uuid/$dir/.lock"
        chmod 0600 "$root/$uuid/$dir/tpm-00.permall"
        chmod 0640 "$root/$uuid/$dir/.lock"
    fi
    "$bin" vtpm save --root "$root" --domain-xml "$tmp/$name.xml" \
        --output "$out/seed-valid-$name" >/dev/null
}
state tpm2 6b1f0e1c-8e3b-4f0a-9c7e-1234567890ab 2.0 --tpm2
state tpm12 11111111-2222-4333-8444-555555555555 1.2
# a small hand-made state with a subdirectory (as tests/vtpm makes one)
u=22222222-3333-4444-8555-666666666666
printf "<domain><uuid>%s</uuid><devices><tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm></devices></domain>" \
    "$u" > "$tmp/sub.xml"
"$bin" vtpm create --root "$root" --domain-xml "$tmp/sub.xml" >/dev/null
mkdir -m 0700 "$root/$u/tpm2/sub"
printf 'nvram contents\n' > "$root/$u/tpm2/sub/nvram.bin"
printf 'permall' > "$root/$u/tpm2/tpm2-00.permall"
chmod 0600 "$root/$u/tpm2/sub/nvram.bin" "$root/$u/tpm2/tpm2-00.permall"
"$bin" vtpm save --root "$root" --domain-xml "$tmp/sub.xml" \
    --output "$out/seed-valid-subdir" >/dev/null

# A pax archive written by GNU tar --sparse (libarchive and tarfile pad
# sparse files): 2 GiB with one extent, listed in the manifest as empty.
mkdir -p "$tmp/sparse/tpm2"
printf 'data' > "$tmp/sparse/tpm2/big"
truncate -s 2G "$tmp/sparse/tpm2/big"
cat > "$tmp/sparse/MANIFEST.json" <<EOF
{"format": "safepool-vtpm-state/1", "uuid": "6b1f0e1c-8e3b-4f0a-9c7e-1234567890ab",
 "tpm_dir": "tpm2", "source_label": null, "entries": [
 {"path": "tpm2", "type": "dir", "mode": 448},
 {"path": "tpm2/big", "type": "file", "mode": 384, "size": 0,
  "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}
EOF
tar --format=pax --sparse --no-recursion --owner=0 --group=0 --mtime=@0 \
    -C "$tmp/sparse" -cf "$out/seed-sparse-2g" MANIFEST.json tpm2 tpm2/big

python3 - "$out" <<'EOF'
import copy, gzip, io, json, sys, tarfile

out = sys.argv[1]
tarfile.RECORDSIZE = 512  # no padding to 10 KiB: smaller seeds
with tarfile.open(f"{out}/seed-valid-tpm2") as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else b"")
               for m in t.getmembers()]
manifest = json.loads(members[0][1])
files = members[1:]  # (TarInfo, data): tpm2/, then its files


def info(name, data=b"", type=tarfile.REGTYPE, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = type
    ti.size = len(data) if type == tarfile.REGTYPE else 0
    ti.mode = 0o700 if type == tarfile.DIRTYPE else 0o600
    ti.mtime = 0
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti, data


def write(name, entries, m=manifest, fmt=tarfile.PAX_FORMAT, first=True,
          raw=None):
    """entries: (TarInfo, data); the manifest (unless None) comes first."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        all = list(entries)
        if m is not None:
            text = raw if raw is not None else json.dumps(m, indent=1).encode()
            mi = info("MANIFEST.json", text)
            all = [mi] + all if first else all + [mi]
        for ti, data in all:
            # a header whose size the data does not fill: header only
            whole = ti.isfile() and ti.size == len(data)
            t.addfile(ti, io.BytesIO(data) if whole else None)
    with open(f"{out}/seed-{name}", "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


def listed(**entry):
    m = copy.deepcopy(manifest)
    m["entries"].append(entry)
    return m


E0 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
valid = write("pax-tarfile", files)
write("ustar", files, fmt=tarfile.USTAR_FORMAT)
write("gnu", files, fmt=tarfile.GNU_FORMAT)
with open(f"{out}/seed-gzip", "wb") as f:
    f.write(gzip.compress(valid, mtime=0))
with open(f"{out}/seed-truncated", "wb") as f:
    f.write(valid[: len(valid) // 2])
with open(f"{out}/seed-empty-tar", "wb") as f:
    f.write(b"\0" * 1024)
write("no-manifest", files, m=None)
write("manifest-last", files, first=False)
write("manifest-twice", [info("MANIFEST.json", b"{}")] + files)
write("manifest-dir", [info("MANIFEST.json", type=tarfile.DIRTYPE)] + files,
      m=None)
write("manifest-symlink",
      [info("MANIFEST.json", type=tarfile.SYMTYPE, linkname="/etc/passwd")]
      + files, m=None)

bad = b"evil"
write("symlink", files + [info("tpm2/link", type=tarfile.SYMTYPE,
                               linkname="/etc/shadow")],
      m=listed(path="tpm2/link", type="file", mode=384, size=0, sha256=E0))
write("symlink-over-file", [files[0], info("tpm2/.lock", type=tarfile.SYMTYPE,
                                           linkname="/etc/shadow")] + files[1:])
write("hardlink", files + [info("tpm2/hl", type=tarfile.LNKTYPE,
                                linkname="/etc/passwd")],
      m=listed(path="tpm2/hl", type="file", mode=384, size=0, sha256=E0))
write("hardlink-inside", files + [info("tpm2/hl", type=tarfile.LNKTYPE,
                                       linkname="tpm2/.lock")],
      m=listed(path="tpm2/hl", type="file", mode=384, size=0, sha256=E0))
write("chardev", files + [info("tpm2/null", type=tarfile.CHRTYPE,
                               devmajor=1, devminor=3)])
write("blockdev", files + [info("tpm2/sda", type=tarfile.BLKTYPE,
                                devmajor=8, devminor=0)])
write("fifo", files + [info("tpm2/fifo", type=tarfile.FIFOTYPE)])
write("dotdot", files + [info("tpm2/../../evil", b"x")],
      m=listed(path="tpm2/../../evil", type="file", mode=384, size=1,
               sha256=E0))
write("dotdot-entry-only", files + [info("tpm2/../evil", b"x")])
write("absolute", files + [info("/tmp/sp-fuzz-evil", b"x")])
write("dot-component", files + [info("tpm2/./x", b"x")])
write("control-char", files + [info("tpm2/a\nb", b"x")])
# long names go through a pax "path" record
longdir = "tpm2/" + "d" * 120
write("long-path", files + [info(longdir, type=tarfile.DIRTYPE),
                            info(longdir + "/f", b"")],
      m=listed(path=longdir, type="dir", mode=448))

tampered = [files[0]] + [(copy.copy(ti), d) for ti, d in files[1:]]
last, data = tampered[-1]
tampered[-1] = (last, bytes([data[0] ^ 1]) + data[1:] if data else b"")
write("sha256-mismatch", tampered)
short = copy.copy(files[-1][0])
short.size = 1
write("size-mismatch", files[:-1] + [(short, files[-1][1][:1])])
big = copy.copy(files[-1][0])
big.size = 3 << 30
write("size-huge-header", files[:-1] + [(big, b"")])
write("size-huge-manifest", files,
      m=listed(path="tpm2/big", type="file", mode=384, size=1 << 40,
               sha256=E0))
write("duplicate-entry", files + [files[-1]])
write("duplicate-dir", files + [files[0]])
write("not-in-manifest", files + [info("tpm2/extra", b"x")])
write("missing-entry", files[:-1])
write("type-mismatch", [files[0], info(files[1][0].name,
                                       type=tarfile.DIRTYPE)] + files[2:])
write("parent-late", [files[1], files[0]] + files[2:])
owned = [(copy.copy(ti), d) for ti, d in files]
for ti, _ in owned:
    ti.uid, ti.gid, ti.uname, ti.mode = 1000, 1000, "user", 0o6777
write("owner-and-setuid", owned)


def variant(name, **changes):
    m = copy.deepcopy(manifest)
    for k, v in changes.items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    write(f"manifest-{name}", files, m=m)


variant("format", format="safepool-vtpm-state/2")
variant("uuid-upper", uuid=manifest["uuid"].upper())
variant("uuid-newline", uuid=manifest["uuid"] + "\n")
variant("uuid-missing", uuid=None)
variant("tpm-dir-other", tpm_dir="tpm1.2")
variant("tpm-dir-dotdot", tpm_dir="..")
variant("label", source_label="system_u:object_r:svirt_image_t:s0:c1,c2")
variant("label-bad", source_label="x\ny")
variant("entries-empty", entries=[])
variant("entries-object", entries={})
m = copy.deepcopy(manifest)
m["entries"][1]["mode"] = 0o4755
write("manifest-mode-setuid", files, m=m)
m = copy.deepcopy(manifest)
m["entries"][1]["sha256"] = m["entries"][1]["sha256"].upper()
write("manifest-sha-upper", files, m=m)
m = copy.deepcopy(manifest)
m["entries"][1]["size"] = -1
write("manifest-size-negative", files, m=m)
m = copy.deepcopy(manifest)
m["entries"][1]["size"] = 1.5
write("manifest-size-float", files, m=m)
m = copy.deepcopy(manifest)
m["entries"].append(copy.deepcopy(m["entries"][1]))
write("manifest-listed-twice", files + [files[1]], m=m)
m = copy.deepcopy(manifest)
m["entries"][0]["type"] = "file"
write("manifest-tpm-dir-file", files, m=m)
# nesting deeper than SP_VTPM_MAX_DEPTH (8)
m = copy.deepcopy(manifest)
deep = [files[0]] + files[1:]
path = "tpm2"
for i in range(10):
    path += f"/d{i}"
    m["entries"].append({"path": path, "type": "dir", "mode": 448})
    deep.append(info(path, type=tarfile.DIRTYPE))
m["entries"].append({"path": path + "/f", "type": "file", "mode": 384,
                     "size": 0, "sha256": E0})
deep.append(info(path + "/f", b""))
write("deep", deep, m=m)
# more entries than SP_VTPM_MAX_ENTRIES (4096), manifest only
m = copy.deepcopy(manifest)
m["entries"] += [{}] * 4097
write("manifest-too-many", files, m=m,
      raw=json.dumps(m, separators=(",", ":")).encode())
write("manifest-not-json", files, raw=b'{"format": "safepool-vtpm-state/1",')
write("manifest-array", files, raw=b"[]")
EOF
ls "$out" | wc -l
du -sh --apparent-size "$out"
