#!/usr/bin/env bash
# Writes tokenward.pc, the pkg-config file of the C library (include/tokenward.h,
# libtokenward.a / libtokenward.so):
#
#   scripts/pkgconfig.sh [--prefix DIR] [--libdir DIR] [--includedir DIR] [--out DIR] [--release]
#
# --prefix     where the library is installed (default /usr/local); --libdir and --includedir
#              default to PREFIX/lib and PREFIX/include;
# --out        the directory tokenward.pc is written to (default <cargo target dir>/pkgconfig);
# --release    ask the release build for its native libraries (the default asks the debug
#              build: both need the same ones, and the debug build is much quicker).
#
# Libs.private, what a static link needs beside libtokenward.a, is what rustc reports: the
# script builds the static library with `--print native-static-libs` and reads the note.
# Link the static library with `pkg-config --static --libs tokenward`.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
libdir=
includedir=
out=
profile=()
while [ $# -gt 0 ]; do
    case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --libdir) libdir=$2; shift 2 ;;
    --includedir) includedir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --release) profile=(--release); shift ;;
    *) echo "pkgconfig.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "$out" ]; then
    out=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/pkgconfig
fi

version=$(cargo pkgid | sed 's/.*[#@]//')
# rustc prints "note: native-static-libs: -lgcc_s -lutil ..." while it links the static
# library (cargo replays the note when the build is fresh).
note=$(cargo rustc --locked --quiet "${profile[@]}" --lib --crate-type staticlib -- \
    --print native-static-libs 2>&1 | grep -F 'native-static-libs: ' | tail -n 1 || true)
if [ -z "$note" ]; then
    echo "pkgconfig.sh: rustc printed no native-static-libs note" >&2
    exit 1
fi
libs_private=${note##*native-static-libs: }

mkdir -p "$out"
cat >"$out/tokenward.pc" <<PC
prefix=$prefix
libdir=${libdir:-\${prefix\}/lib}
includedir=${includedir:-\${prefix\}/include}

Name: tokenward
Description: Coder-compatible API keys and session tokens (C ABI)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -ltokenward
Libs.private: $libs_private
PC
echo "$out/tokenward.pc"
