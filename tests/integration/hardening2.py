"""The fixes of the outside attack's defects 14, 15, 21-27, attacked again
through python3-libvirt (and virsh for vol-download --sparse): uploads
into an overlay, resize with allocation, virt-clone's allocation, an
overlay's backingStore across refresh and restart, hand-made files and
the cloud-image mistake, sparse downloads, full allocation by default,
reflink clones and refused flags, a backingStore without <format>.
hardening.py has defects 1-13."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import os  # noqa: E402
import re
import subprocess

import libvirt

from hardening_lib import (CONN, backing_of, check, check_eq, conn,
                           identity, listed, log_since, log_size, new_pool,
                           qemu_img, refused, run, sha, summary, temporaries,
                           upload, upload_file, vol_format, vol_xml_of, xattrs,
                           xml_vol)
from sptest import T

MiB = 1 << 20
GiB = 1 << 30
OUT = os.path.join(T, "outside2")
os.makedirs(OUT)


def blocks_bytes(path):
    return os.stat(path).st_blocks * 512


# -- defect 14 --------------------------------------------------------------

def defect14():
    p, path = new_pool("d14")
    bpath = os.path.join(path, "base.qcow2")
    opath = os.path.join(path, "over.qcow2")
    p.createXML(xml_vol("base.qcow2", 64 * MiB, "qcow2"), 0)
    p.createXML(xml_vol("other.qcow2", 64 * MiB, "qcow2"), 0)
    over = p.createXML(xml_vol("over.qcow2", 64 * MiB, "qcow2",
                               backing=(bpath, "qcow2")), 0)

    # an image naming exactly the recorded backing store: accepted
    same = os.path.join(OUT, "d14-same.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", "-b", bpath, "-F", "qcow2", same, "64M")
    upload_file(p, over, same)
    check_eq(sha(opath), sha(same), "overlay content after the upload")
    check_eq(backing_of(vol_xml_of(p, "over.qcow2")), (bpath, "qcow2"),
             "overlay backingStore after an upload naming it")

    # an image naming another backing file: refused, nothing changed
    other = os.path.join(OUT, "d14-other.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", "-b", os.path.join(path, "other.qcow2"),
             "-F", "qcow2", other, "64M")
    before = (sha(opath), identity(opath))
    with open(other, "rb") as f:
        data = f.read()
    msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "upload naming another backing",
                  upload, p, p.storageVolLookupByName("over.qcow2"), data)
    check("backing" in msg, f"refusal does not name the backing file: {msg}")
    check_eq((sha(opath), identity(opath)), before, "overlay after refused upload")

    # a standalone qcow2: accepted, the overlay no longer has a backing store
    alone = os.path.join(OUT, "d14-alone.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", alone, "64M")
    upload_file(p, p.storageVolLookupByName("over.qcow2"), alone)
    check_eq(sha(opath), sha(alone), "overlay content after standalone upload")
    # what a client sees once libvirt's own refresh after the upload ran
    stale = backing_of(vol_xml_of(p, "over.qcow2"))
    check("user.safepool.backing" not in xattrs(opath),
          f"backing still recorded: {list(xattrs(opath))}")
    p.refresh(0)
    x = vol_xml_of(p, "over.qcow2")
    check(backing_of(x) is None,
          f"overlay still has a backingStore after pool-refresh: {x}")
    p.storageVolLookupByName("base.qcow2").delete(0)
    check(not os.path.exists(bpath), "old base not deleted")
    check_eq(temporaries(path), [], "temporaries left")
    check(stale is None,
          f"after the standalone upload (and libvirt's pool refresh that "
          f"follows it) XMLDesc still shows backingStore {stale}; the record "
          f"has none and an explicit pool-refresh shows none")


# -- defect 15 --------------------------------------------------------------

def defect15():
    p, path = new_pool("d15")
    rpath = os.path.join(path, "r.raw")
    r = p.createXML(xml_vol("r.raw", 16 * MiB, allocation=0), 0)
    r.resize(64 * MiB, libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE)
    check_eq(os.stat(rpath).st_size, 64 * MiB, "raw size after resize --allocate")
    check(blocks_bytes(rpath) >= 64 * MiB,
          f"raw not allocated after resize --allocate: {blocks_bytes(rpath)} bytes")
    qpath = os.path.join(path, "q.qcow2")
    q = p.createXML(xml_vol("q.qcow2", 16 * MiB, "qcow2"), 0)
    before = (sha(qpath), identity(qpath))
    msg = refused(libvirt.VIR_ERR_INVALID_ARG, "qcow2 resize --allocate",
                  q.resize, 64 * MiB, libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE)
    check("VIR_STORAGE_VOL_RESIZE_ALLOCATE" in msg, f"refusal does not name the flag: {msg}")
    check_eq((sha(qpath), identity(qpath)), before, "qcow2 after refused resize")


# -- defect 21 --------------------------------------------------------------

def defect21():
    p, path = new_pool("d21")
    cap = GiB + 8 * 1024
    src = p.createXML(xml_vol("full.raw", cap), 0)
    with open(src.path(), "r+b") as f:
        f.write(b"virt-clone me")
    m = re.search(r"<allocation unit='bytes'>(\d+)</allocation>", src.XMLDesc(0))
    alloc = max(int(m.group(1)), cap + 4096)
    print(f"   source capacity {cap}, clone XML allocation {alloc}", flush=True)
    clone = p.createXMLFrom(xml_vol("full-clone.raw", cap, allocation=alloc), src, 0)
    check_eq(os.stat(clone.path()).st_size, cap, "clone size")
    check(blocks_bytes(clone.path()) >= cap,
          f"clone not fully allocated: {blocks_bytes(clone.path())}")
    check_eq(sha(clone.path()), sha(src.path()), "clone content")
    clone.delete(0)
    src.delete(0)


# -- defect 22 (last: restarts libvirtd) ------------------------------------

def defect22():
    p, path = new_pool("d22")
    bpath = os.path.join(path, "base.qcow2")
    p.createXML(xml_vol("base.qcow2", 64 * MiB, "qcow2"), 0)
    p.createXML(xml_vol("over.qcow2", 64 * MiB, "qcow2", backing=(bpath, "qcow2")), 0)
    check_eq(backing_of(vol_xml_of(p, "over.qcow2")), (bpath, "qcow2"),
             "backingStore after create")
    p.refresh(0)
    check_eq(backing_of(vol_xml_of(p, "over.qcow2")), (bpath, "qcow2"),
             "backingStore after pool-refresh")
    CONN.restart_libvirtd()
    p = conn().storagePoolLookupByName("d22")
    if not p.isActive():
        p.create(0)
    check_eq(backing_of(vol_xml_of(p, "over.qcow2")), (bpath, "qcow2"),
             "backingStore after a libvirtd restart")


# -- defect 23 --------------------------------------------------------------

def defect23():
    p, path = new_pool("d23")
    qemu_img("create", "-q", "-f", "qcow2", os.path.join(path, "hand.qcow2"), "64M")
    p.refresh(0)
    x = vol_xml_of(p, "hand.qcow2")
    check("<format type='none'/>" in x, f"hand-made file not format 'none': {x}")
    check("<format type='raw'/>" not in x, f"hand-made file listed as raw: {x}")

    # the cloud-image mistake: a default (raw) volume, then a qcow2 upload
    vpath = os.path.join(path, "cloud")
    v = p.createXML(xml_vol("cloud", 64 * MiB, no_format=True), 0)
    check_eq(vol_format(vol_xml_of(p, "cloud")), "raw", "default volume format")
    img = os.path.join(OUT, "d23-cloud.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", img, "64M")
    before = (sha(vpath), identity(vpath))
    with open(img, "rb") as f:
        data = f.read()
    msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "qcow2 upload into raw",
                  upload, p, v, data)
    check("<format type='qcow2'/>" in msg and "create the volume" in msg,
          f"refusal does not say what to do: {msg}")
    check_eq((sha(vpath), identity(vpath)), before, "raw volume after refused upload")


# -- defect 24 --------------------------------------------------------------

def defect24():
    p, path = new_pool("d24")
    vpath = os.path.join(path, "sparse.raw")
    p.createXML(xml_vol("sparse.raw", 256 * MiB, allocation=0), 0)
    with open(vpath, "r+b") as f:
        for off in (0, 100 * MiB, 255 * MiB):
            f.seek(off)
            f.write(os.urandom(MiB))
    out = os.path.join(OUT, "d24-download")
    start = log_size()
    r = subprocess.run(["virsh", "vol-download", "--sparse", "--pool", "d24",
                        "sparse.raw", out], capture_output=True, text=True)
    check_eq(r.returncode, 0, f"virsh vol-download --sparse ({r.stderr.strip()})")
    check_eq(os.path.getsize(out), 256 * MiB, "downloaded size")
    check_eq(sha(out), sha(vpath), "downloaded bytes")
    log = log_since(start)
    bad = [line for line in log.splitlines() if "unable to truncate" in line]
    check(not bad, f"libvirtd.log: {bad}")


# -- defect 25 --------------------------------------------------------------

def defect25():
    p, path = new_pool("d25")
    full = p.createXML(xml_vol("full.raw", 64 * MiB), 0)
    check(blocks_bytes(full.path()) >= 64 * MiB,
          f"raw without <allocation> not fully allocated: {blocks_bytes(full.path())}")
    sparse = p.createXML(xml_vol("sparse.raw", 64 * MiB, allocation=0), 0)
    check(blocks_bytes(sparse.path()) < MiB,
          f"raw with allocation 0 not sparse: {blocks_bytes(sparse.path())}")


# -- defect 26 --------------------------------------------------------------

def defect26():
    p, path = new_pool("d26")
    src = p.createXML(xml_vol("src.raw", 64 * MiB, allocation=0), 0)
    with open(src.path(), "r+b") as f:
        f.write(os.urandom(8 * MiB))
    before = sorted(os.listdir(path))
    msg = refused(libvirt.VIR_ERR_INTERNAL_ERROR, "reflink clone on ext4",
                  p.createXMLFrom, xml_vol("ref.raw", 64 * MiB, allocation=0), src,
                  libvirt.VIR_STORAGE_VOL_CREATE_REFLINK)
    check("reflink" in msg, f"refusal does not name reflink: {msg}")
    check_eq(sorted(os.listdir(path)), before, "pool entries after refused reflink")
    check(not listed(p, "ref.raw"), "refused reflink clone listed")

    # a flag safepool does not support is refused by name
    msg = refused(libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED, "delete --zeroed",
                  src.delete, libvirt.VIR_STORAGE_VOL_DELETE_ZEROED)
    check("VIR_STORAGE_VOL_DELETE_ZEROED" in msg, f"refusal does not name the flag: {msg}")
    check(os.path.exists(src.path()), "volume deleted by a refused delete")

    # on xfs with reflink the clone shares the source's extents
    img = os.path.join(T, "xfs.img")
    mnt = os.path.join(T, "xfsmnt")
    with open(img, "wb") as f:
        f.truncate(512 * MiB)
    subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", img], check=True)
    os.makedirs(mnt)
    subprocess.run(["mount", "-o", "loop", img, mnt], check=True)
    try:
        xp = conn().storagePoolDefineXML(
            "<pool type='dir'><name>d26x</name><target>"
            f"<path>{mnt}/pool</path></target></pool>", 0)
        xp.build(0)
        xp.create(0)
        xsrc = xp.createXML(xml_vol("src.raw", 64 * MiB, allocation=0), 0)
        with open(xsrc.path(), "r+b") as f:
            f.write(os.urandom(8 * MiB))
        xc = xp.createXMLFrom(xml_vol("ref.raw", 64 * MiB, allocation=0), xsrc,
                              libvirt.VIR_STORAGE_VOL_CREATE_REFLINK)
        check_eq(sha(xc.path()), sha(xsrc.path()), "reflink clone content")
        fm = subprocess.run(["filefrag", "-v", xc.path()], capture_output=True,
                            text=True).stdout
        check("shared" in fm, f"reflink clone shares no extent: {fm}")
        for v in (xc, xsrc):
            v.delete(0)
        xp.destroy()
        xp.undefine()
    finally:
        subprocess.run(["umount", mnt])


# -- defect 27 --------------------------------------------------------------

def defect27():
    p, path = new_pool("d27")
    bpath = os.path.join(path, "base.qcow2")
    p.createXML(xml_vol("base.qcow2", 64 * MiB, "qcow2"), 0)
    before = sorted(os.listdir(path))
    msg = refused(libvirt.VIR_ERR_OPERATION_INVALID, "backingStore without <format>",
                  p.createXML, xml_vol("over.qcow2", 64 * MiB, "qcow2",
                                       backing=(bpath, None)), 0)
    check("<format" in msg and "missing" in msg,
          f"refusal does not name the missing <format>: {msg}")
    check("qcow2" in msg, f"refusal does not name the format to give: {msg}")
    check_eq(sorted(os.listdir(path)), before, "pool entries after the refusal")
    check(not listed(p, "over.qcow2"), "refused overlay listed")


run(14, "uploads into an overlay: same backing, another backing, standalone", defect14)
run(15, "resize --allocate: raw allocated, qcow2 refused by name", defect15)
run(21, "clone with <allocation> larger than <capacity> (virt-clone)", defect21)
run(23, "hand-made file is format 'none'; qcow2 upload into raw says what to do", defect23)
run(24, "sparse vol-download: same bytes, no 'unable to truncate'", defect24)
run(25, "raw without <allocation> fully allocated, allocation 0 sparse", defect25)
run(26, "REFLINK clone fails on ext4, shares extents on xfs; unsupported flag named", defect26)
run(27, "backingStore without <format> names the missing <format>", defect27)
run(22, "overlay backingStore kept across pool-refresh and libvirtd restart", defect22)
summary()
