#!/usr/bin/env bash
# Builds libdisruptor_mp in release mode and installs it into a prefix:
#
#   PREFIX/lib/libdisruptor_mp.so.X.Y.Z   (SONAME libdisruptor_mp.so.X)
#   PREFIX/lib/libdisruptor_mp.so.X -> libdisruptor_mp.so.X.Y.Z
#   PREFIX/lib/libdisruptor_mp.so   -> libdisruptor_mp.so.X
#   PREFIX/lib/libdisruptor_mp.a
#   PREFIX/include/disruptor_mp.h, disruptor_mp.hpp
#   PREFIX/lib/cmake/disruptor_mp/disruptor_mpConfig.cmake, ...ConfigVersion.cmake
#   PREFIX/lib/pkgconfig/disruptor_mp.pc, disruptor_mp-static.pc
#   PREFIX/bin/dmp                        the command-line tool
#   PREFIX/share/man/man1/dmp.1, dmp-<command>.1
#   PREFIX/lib/.debug/libdisruptor_mp.so.X.Y.Z.debug, PREFIX/bin/.debug/dmp.debug
#
# The shared library and dmp are stripped, their debug info split into the
# .debug files, which gdb finds through the files' .gnu_debuglink (see
# scripts/split-debug.sh); the static library is stripped of debug info.
#
# usage: scripts/install.sh --prefix DIR [--artefacts DIR] [--dmp PATH]
#
#   --prefix DIR     where to install (created if missing; files are replaced)
#   --artefacts DIR  install libdisruptor_mp.so and libdisruptor_mp.a from DIR
#                    (for example target/release) instead of building them
#   --dmp PATH       the dmp binary to install (default: DIR/dmp with
#                    --artefacts, else the one this script builds)
#
# Without --artefacts it runs `cargo rustc --release --lib --locked` and
# `cargo build -p dmp --release --locked` (honours CARGO_TARGET_DIR). When cargo compiles the library it prints the system
# libraries the static archive needs; they must match
# cmake/native-static-libs.txt, which the CMake and pkg-config files use.
# The version comes from Cargo.toml.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=""
artefacts=""
dmp=""

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --artefacts) artefacts="${2:?--artefacts needs a directory}"; shift 2 ;;
        --artefacts=*) artefacts="${1#--artefacts=}"; shift ;;
        --dmp) dmp="${2:?--dmp needs a path}"; shift 2 ;;
        --dmp=*) dmp="${1#--dmp=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [[ -z "$prefix" ]]; then
    echo "install.sh: --prefix DIR is required" >&2
    usage >&2
    exit 2
fi

# The package version: the first `version = "..."` of Cargo.toml's [package].
version="$(awk '/^\[package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/.*= *"|".*/, ""); print; exit}' "$repo/Cargo.toml")"
if [[ ! "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then
    echo "install.sh: cannot read the version from $repo/Cargo.toml (got '$version')" >&2
    exit 1
fi
major="${BASH_REMATCH[1]}"
minor="${BASH_REMATCH[2]}"
native_libs="$(grep -v '^#' "$repo/cmake/native-static-libs.txt" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')"

if [[ -z "$artefacts" ]]; then
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    echo "== cargo rustc -p disruptor-mp --release --lib (target dir $target_dir)"
    (cd "$repo" && cargo rustc -p disruptor-mp --release --lib --locked -- --print native-static-libs) 2>&1 | tee "$log" >&2
    printed="$(sed -n 's/^note: native-static-libs: //p' "$log" | tail -n 1)"
    if [[ -n "$printed" && "$printed" != "$native_libs" ]]; then
        echo "install.sh: the static library now needs: $printed" >&2
        echo "install.sh: cmake/native-static-libs.txt says:  $native_libs" >&2
        echo "install.sh: update cmake/native-static-libs.txt and reinstall" >&2
        exit 1
    fi
    if [[ -z "$dmp" ]]; then
        echo "== cargo build -p dmp --release"
        (cd "$repo" && cargo build -p dmp --release --locked) >&2
        dmp="$target_dir/release/dmp"
    fi
    artefacts="$target_dir/release"
fi
dmp="${dmp:-$artefacts/dmp}"

so="$artefacts/libdisruptor_mp.so"
archive="$artefacts/libdisruptor_mp.a"
for f in "$so" "$archive" "$dmp"; do
    if [[ ! -f "$f" ]]; then
        echo "install.sh: $f not found" >&2
        exit 1
    fi
done
if command -v readelf >/dev/null; then
    soname="$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
    if [[ "$soname" != "libdisruptor_mp.so.$major" ]]; then
        echo "install.sh: $so has SONAME '$soname', expected libdisruptor_mp.so.$major" >&2
        exit 1
    fi
fi

mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
libdir="$prefix/lib"
man1="$prefix/share/man/man1"
install -d "$libdir" "$prefix/include" "$libdir/cmake/disruptor_mp" "$libdir/pkgconfig" \
    "$prefix/bin" "$man1"

real="libdisruptor_mp.so.$version"
install -m 755 "$so" "$libdir/$real"
ln -sfn "$real" "$libdir/libdisruptor_mp.so.$major"
ln -sfn "libdisruptor_mp.so.$major" "$libdir/libdisruptor_mp.so"
install -m 644 "$archive" "$libdir/libdisruptor_mp.a"
objcopy --strip-debug "$libdir/libdisruptor_mp.a"
install -m 755 "$dmp" "$prefix/bin/dmp"
bash "$repo/scripts/split-debug.sh" "$libdir/$real" "$prefix/bin/dmp"
"$prefix/bin/dmp" man "$man1"
chmod 644 "$man1"/*.1
install -m 644 "$repo/include/disruptor_mp.h" "$repo/include/disruptor_mp.hpp" "$prefix/include/"
install -d "$prefix/include/disruptor_mp" && install -m 644 "$repo"/include/disruptor_mp/*.hpp "$prefix/include/disruptor_mp/"  # the C++ wrapper's parts (branch cpp)

# Fills a template from cmake/ (the same substitutions the top-level
# CMakeLists.txt makes with configure_file).
generate() {
    local template="$1" out="$2"
    sed -e "s|@DMP_VERSION@|$version|g" \
        -e "s|@DMP_VERSION_MAJOR@|$major|g" \
        -e "s|@DMP_VERSION_MINOR@|$minor|g" \
        -e "s|@DMP_LIBDIR@|lib|g" \
        -e "s|@DMP_INCLUDEDIR@|include|g" \
        -e "s|@DMP_CONFIG_TO_PREFIX@|../../..|g" \
        -e "s|@DMP_PC_TO_PREFIX@|../..|g" \
        -e "s|@DMP_NATIVE_STATIC_LIBS@|$native_libs|g" \
        -e "s|@DMP_NATIVE_STATIC_LIBS_CMAKE@|${native_libs// /;}|g" \
        "$repo/cmake/$template" >"$out.tmp"
    if grep -q '@DMP_[A-Z_]*@' "$out.tmp"; then
        echo "install.sh: unfilled placeholder in $template:" >&2
        grep '@DMP_[A-Z_]*@' "$out.tmp" >&2
        rm -f "$out.tmp"
        exit 1
    fi
    chmod 644 "$out.tmp"
    mv "$out.tmp" "$out"
}
generate disruptor_mpConfig.cmake.in "$libdir/cmake/disruptor_mp/disruptor_mpConfig.cmake"
generate disruptor_mpConfigVersion.cmake.in "$libdir/cmake/disruptor_mp/disruptor_mpConfigVersion.cmake"
generate disruptor_mp.pc.in "$libdir/pkgconfig/disruptor_mp.pc"
generate disruptor_mp-static.pc.in "$libdir/pkgconfig/disruptor_mp-static.pc"

echo "installed disruptor_mp $version into $prefix"
echo "  CMake:      -DCMAKE_PREFIX_PATH=$prefix   find_package(disruptor_mp $major.$minor REQUIRED)"
echo "  pkg-config: PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs disruptor_mp"
echo "  tool:       $prefix/bin/dmp (man dmp, with MANPATH=$prefix/share/man unless on it)"
echo "  Python:     pip install ./python (bundles its own build of the library)"
