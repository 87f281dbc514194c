#!/bin/bash
# The module exports only virStorageBackendFsRegister, and every libvirt
# symbol it needs is exported by the installed libvirt (a missing one makes
# libvirtd refuse to start: virModuleLoad fails with RTLD_NOW).
set -euo pipefail
mod=$1
lib=/usr/lib/x86_64-linux-gnu
exported=$(nm -D --defined-only "$mod" | awk '{print $3}')
[ "$exported" = virStorageBackendFsRegister ] ||
    { echo "FAIL: exported symbols: $exported"; exit 1; }
have=$(nm -D --defined-only "$lib/libvirt.so.0" \
       "$lib/libvirt/connection-driver/libvirt_driver_storage.so" | awk '{sub(/@.*/, "", $3); print $3}' | sort -u)
missing=0
for s in $(nm -D --undefined-only "$mod" | awk '$2 ~ /^vir/ {sub(/@.*/, "", $2); print $2}'); do
    if ! grep -qx "$s" <<<"$have"; then
        echo "FAIL: $s is not exported by libvirt"; missing=1
    fi
done
grep -q 'FLAGS.*BIND_NOW' <<<"$(readelf -d "$mod")" || { echo "FAIL: no -z now"; exit 1; }
grep -q GNU_RELRO <<<"$(readelf -lW "$mod")" || { echo "FAIL: no RELRO"; exit 1; }
[ $missing = 0 ] && echo PASS
