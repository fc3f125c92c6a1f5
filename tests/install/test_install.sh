#!/usr/bin/env bash
# Installs the build into a temporary prefix, then checks the CMake package, the pkg-config file,
# the C API and the installed CLI (which must find its bundled model with no arguments).
set -euo pipefail
build_dir=$1 source_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
cmake -S "$source_dir/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
out=$("$tmp/consumer/consumer" "$source_dir/models/stories260k")
[ "$out" = ", there was a little girl" ] || { echo "consumer printed: $out"; exit 1; }
# The same program built with nothing but pkg-config's flags.
read -r -a flags <<<"$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs ortlm)"
g++ -std=c++20 "$source_dir/tests/install/consumer.cpp" "${flags[@]}" -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/pc-consumer"
out=$("$tmp/pc-consumer" "$source_dir/models/stories260k")
[ "$out" = ", there was a little girl" ] || { echo "pkg-config consumer printed: $out"; exit 1; }
# The C API from C with the same flags: the installed ortlm.h and what libortlm.so exports.
cc -std=c11 "$source_dir/examples/c/generate.c" "${flags[@]}" -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/c-consumer"
out=$("$tmp/c-consumer" "$source_dir/models/stories260k" "Once upon a time" 8 2>/dev/null)
[ "$out" = "Once upon a time, there was a little girl" ] || { echo "C consumer printed: $out"; exit 1; }
cd "$tmp" && story=$("$tmp/prefix/bin/ortlm" generate -p "Once upon a time" -n 8 2>/dev/null)
[ "$story" = "Once upon a time, there was a little girl" ] || { echo "ortlm printed: $story"; exit 1; }
echo "install: CMake package, pkg-config, C API and CLI OK"
