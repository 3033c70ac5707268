#!/usr/bin/env bash
# Strips an installed ELF file and keeps its debug info beside it, where gdb
# finds it with no configuration (the debug-link method: a `.debug`
# directory next to the file):
#
#   DIR/FILE                  stripped, with a .gnu_debuglink to FILE.debug
#   DIR/.debug/FILE.debug     its symbols and DWARF (objcopy --only-keep-debug)
#
# usage: scripts/split-debug.sh FILE...
#
# Used by scripts/install.sh and the top-level CMakeLists.txt for
# lib/libdisruptor_mp.so.X.Y.Z and bin/dmp. Needs objcopy (binutils).
set -euo pipefail

objcopy="${OBJCOPY:-objcopy}"
if ! command -v "$objcopy" >/dev/null; then
    echo "split-debug.sh: $objcopy not found: install binutils (Debian: apt-get install binutils)" >&2
    exit 1
fi
for file in "$@"; do
    dir="$(dirname "$file")"
    base="$(basename "$file")"
    mkdir -p "$dir/.debug"
    "$objcopy" --only-keep-debug "$file" "$dir/.debug/$base.debug"
    chmod 644 "$dir/.debug/$base.debug"
    "$objcopy" --strip-debug --strip-unneeded "$file"
    # The link names the file alone; objcopy reads it to record its CRC.
    (cd "$dir/.debug" && "$objcopy" --add-gnu-debuglink="$base.debug" "../$base")
done
