#!/usr/bin/python3
"""Search files and processes for byte patterns read from stdin (hex, one
a line, up to a line "end"), so the patterns are never in an argv or a
file. Prints one line per match: "<file|proc> <where> <pattern index>".

    find-bytes.py [--proc] DIR...

--proc also searches every /proc/PID/cmdline and /proc/PID/environ.
Symlinks are not followed; sockets, FIFOs and devices are skipped.
"""
import os
import stat
import sys

args = sys.argv[1:]
proc = "--proc" in args
dirs = [a for a in args if a != "--proc"]
patterns = []
for line in sys.stdin:
    line = line.strip()
    if line == "end":
        break
    if line:
        patterns.append(bytes.fromhex(line))


def search(data, kind, where):
    for i, p in enumerate(patterns):
        if p in data:
            print(f"{kind} {where} {i}")


for top in dirs:
    for root, subdirs, files in os.walk(top, followlinks=False):
        for name in files:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode):
                    continue
                with open(path, "rb") as f:
                    search(f.read(), "file", path)
            except OSError:
                continue
if proc:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for what in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as f:
                    search(f.read(), "proc", f"{pid}/{what}")
            except OSError:
                continue
