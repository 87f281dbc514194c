#!/bin/bash
# The COMMAND of one private libvirtd that plays a host in a multi-host
# test: it says it is ready, then obeys one-word commands written to the
# FIFO CTL/cmd until "stop":
#   restart  restart this namespace's libvirtd (tools/private-libvirtd --restart)
#   scan     read byte patterns (hex, one a line) on CTL/cmd's next lines
#            until "end", search this host's private libvirt dirs for them
#            and write the matches to CTL/scan.out
#   stop     return (the namespace and its daemons go away)
# Each command's result is a line "<command> <status>" in CTL/reply.
set -euo pipefail
ctl=$1
srcdir=${SAFEPOOL_SRCDIR:?}
mkfifo "$ctl/cmd"
echo ready >"$ctl/state"
while true; do
    exec 3<"$ctl/cmd"
    read -r cmd <&3 || { exec 3<&-; continue; }
    case $cmd in
    restart)
        rc=0
        "$srcdir/tools/private-libvirtd" --restart || rc=$?
        echo "restart $rc" >>"$ctl/reply"
        ;;
    scan)
        rc=0
        # patterns arrive on the FIFO, never in a file or an argv
        /usr/bin/python3 "$srcdir/tests/integration/find-bytes.py" \
            /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt \
            /var/log/libvirt /var/log/swtpm <&3 >"$ctl/scan.out" || rc=$?
        echo "scan $rc" >>"$ctl/reply"
        ;;
    stop)
        exec 3<&-
        exit 0
        ;;
    esac
    exec 3<&-
done
