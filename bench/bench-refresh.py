"""One side of bench-refresh.sh, inside a private libvirtd: optionally fill
the pool (volumes made through the module, as safepool records them), then
time pool.refresh(); prints one JSON line."""
import json
import statistics
import sys
import time

import libvirt

label, path, n_raw, n_qcow2, runs, fill = sys.argv[1:7]
n_raw, n_qcow2, runs = int(n_raw), int(n_qcow2), int(runs)
conn = libvirt.open("qemu:///system")
pool = conn.storagePoolDefineXML(
    f"<pool type='dir'><name>bench</name><target><path>{path}</path>"
    "</target></pool>", 0)
pool.create(0)
if fill == "fill":
    for i in range(n_raw):
        pool.createXML(f"<volume><name>r{i:05d}.img</name><capacity>1073741824"
                       "</capacity><allocation>0</allocation></volume>", 0)
    for i in range(n_qcow2):
        pool.createXML(f"<volume><name>q{i:05d}.qcow2</name><capacity>"
                       "1073741824</capacity><target><format type='qcow2'/>"
                       "</target></volume>", 0)
pool.refresh(0)  # warm: page cache and libvirt's own structures
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    pool.refresh(0)
    times.append(time.perf_counter() - t0)
n = pool.numOfVolumes()
pool.destroy()
pool.undefine()
print(json.dumps({"side": label, "volumes": n, "times": times,
                  "median_s": statistics.median(times)}))
