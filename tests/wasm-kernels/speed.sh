#!/usr/bin/env bash
# Kernel throughput on wasm32 in node, for tuning by hand (prints, never asserts):
#   tests/wasm-kernels/speed.sh [0|1|2|3]   (0 = all formats, 1 = q8_0, 2 = q4_K, 3 = q6_K)
set -euo pipefail
cd "$(dirname "$0")/../.."
cp -n Cargo.lock tests/wasm-kernels/Cargo.lock 2>/dev/null || true
dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --manifest-path tests/wasm-kernels/Cargo.toml --target wasm32-unknown-unknown --target-dir "$dir"
node tests/wasm-kernels/run.mjs "$dir/wasm32-unknown-unknown/release/wasm_kernels_check.wasm" speed "${1:-0}"
