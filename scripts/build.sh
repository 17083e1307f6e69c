#!/bin/sh
# Configures and builds mod_apisec out of tree:
#   scripts/build.sh [DIR] [configure args...]   (default DIR: build)
# The source tree itself is never configured, so a plain build and an
# AddressSanitizer build can sit side by side (build/, build-asan/).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}; [ $# -gt 0 ] && shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ] \
   || [ -n "$(find mk -newer Makefile.in -name '*.am' 2>/dev/null)" ]; then
    ./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; exit 1; }
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ ../configure -nt Makefile ] || [ -n "$*" ]; then
    "$top/configure" --enable-werror "$@" >configure.out 2>&1 \
        || { cat configure.out; tail -40 config.log; exit 1; }
fi
make -j"$(nproc)" >make.out 2>&1 || { cat make.out; exit 1; }
echo "built $top/$dir/mod_apisec.so"
