#!/bin/bash
# Run one integration test script against a private libvirtd.
#   run.sh [--stock|--wrong-version|--hosts] <script> [args...]
# Module paths come from meson (SP_MODULE, SP_WRONG_MODULE). With --hosts
# the script runs outside any daemon and starts its own (several hosts),
# with the module's backend dir in $SP_BACKENDS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SAFEPOOL_SRCDIR:-$(cd "$here/../.." && pwd)}
mode=module
case "${1:-}" in
--stock) mode=stock; shift ;;
--wrong-version) mode=wrong; shift ;;
--hosts) mode=hosts; shift ;;
esac
script=$1; shift

export SP_TEST_TMP=$(mktemp -d /tmp/sp-integration.XXXXXX)
trap 'rm -rf "$SP_TEST_TMP"' EXIT
args=()
case $mode in
module)
    "$srcdir/tools/make-backend-dir" "$SP_MODULE" "$SP_TEST_TMP/backends" 2>/dev/null
    args=(--backend-dir "$SP_TEST_TMP/backends") ;;
wrong)
    "$srcdir/tools/make-backend-dir" "$SP_WRONG_MODULE" "$SP_TEST_TMP/backends" 2>/dev/null
    args=(--backend-dir "$SP_TEST_TMP/backends") ;;
hosts)
    "$srcdir/tools/make-backend-dir" "$SP_MODULE" "$SP_TEST_TMP/backends" 2>/dev/null
    export SP_BACKENDS=$SP_TEST_TMP/backends
    export SAFEPOOL_SRCDIR=$srcdir
    /bin/bash "$here/$script" "$@"
    exit ;;
esac
export PRIVATE_LIBVIRTD_SHOW_LOG=1
# not exec: the EXIT trap removes the test's temporary directory
case $script in
*.py) "$srcdir/tools/private-libvirtd" "${args[@]}" -- /usr/bin/python3 "$here/$script" "$@" ;;
*) "$srcdir/tools/private-libvirtd" "${args[@]}" -- /bin/bash "$here/$script" "$@" ;;
esac
