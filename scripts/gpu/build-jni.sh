#!/usr/bin/env bash
# Builds DJL's JNI bridge against the installed PyTorch (run on the GPU machine by scripts/gpu-check).
#   build-jni.sh BUNDLE_DIR PYTHON OUT_FILE
set -euo pipefail
bundle="$1"; python="$2"; out="$3"
prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
build="$bundle/jni-build"
rm -rf "$build" && mkdir -p "$build"
cmake -S "$bundle/jni" -B "$build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$build/cmake.log" 2>&1 \
  || { tail -30 "$build/cmake.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" >"$build/build.log" 2>&1 || { grep -m 20 -E "error|Error" "$build/build.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp "$build/libdjl_torch.so" "$out"
