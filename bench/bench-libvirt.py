"""One side of bench-libvirt.sh, run inside tools/private-libvirtd:
N qcow2 creates of one size and N of N sizes over one python3-libvirt
connection, then clones of a
sparse raw 4 GiB volume holding 256 MiB of data. Prints one JSON line."""
import json
import os
import statistics
import sys
import time

import libvirt

label, workdir, n_creates, n_clones = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = libvirt.open("qemu:///system")


def pool_at(name, path):
    p = conn.storagePoolDefineXML(
        f"<pool type='dir'><name>{name}</name><target><path>{path}</path>"
        f"</target></pool>", 0)
    p.build(0)
    p.create(0)
    return p


def vol_xml(name, capacity, fmt, allocation=None):
    # allocation as virsh vol-clone sends it (the source's); without one
    # libvirt allocates a raw volume fully
    alloc = "" if allocation is None else f"<allocation>{allocation}</allocation>"
    return (f"<volume><name>{name}</name><capacity>{capacity}</capacity>"
            f"{alloc}<target><format type='{fmt}'/></target></volume>")


# creates: qcow2, 1 GiB each
pc = pool_at("bench-create", os.path.join(workdir, "create"))
t0 = time.monotonic()
for i in range(n_creates):
    pc.createXML(vol_xml(f"v{i:05d}.qcow2", 1 << 30, "qcow2"), 0)
create_s = time.monotonic() - t0

# the same number again, each of a size not seen before: no volume can be
# written from an earlier one of its shape (image/sp-template.h), every
# create runs qemu-img (sandboxed, with the module)
pd = pool_at("bench-distinct", os.path.join(workdir, "distinct"))
t0 = time.monotonic()
for i in range(n_creates):
    pd.createXML(vol_xml(f"d{i:05d}.qcow2", (1 << 30) + (i + 1) * (1 << 20),
                         "qcow2"), 0)
distinct_s = time.monotonic() - t0

# clone: raw 4 GiB, 256 MiB of data in 16 extents of 16 MiB
pk = pool_at("bench-clone", os.path.join(workdir, "clone"))
src = pk.createXML(vol_xml("src.raw", 4 << 30, "raw", 0), 0)
chunk = os.urandom(1 << 20)
with open(src.path(), "r+b") as f:
    for e in range(16):
        f.seek(e * (256 << 20))
        for _ in range(16):
            f.write(chunk)
    os.fsync(f.fileno())
clone_times = []
for i in range(n_clones):
    t0 = time.monotonic()
    c = pk.createXMLFrom(vol_xml(f"clone{i}.raw", 4 << 30, "raw", 256 << 20),
                         src, 0)
    clone_times.append(time.monotonic() - t0)
    st = os.stat(c.path())
    assert st.st_size == 4 << 30, st
    c.delete(0)
print(json.dumps({"label": label, "creates": n_creates,
                  "create_s": create_s,
                  "create_ms_each": create_s * 1000 / n_creates,
                  "distinct_s": distinct_s,
                  "distinct_ms_each": distinct_s * 1000 / n_creates,
                  "clone_s_median": statistics.median(clone_times),
                  "clone_s": clone_times}))
