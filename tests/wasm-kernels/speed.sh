#!/usr/bin/env bash
# Kernel throughput on wasm32 in node, for tuning by hand (prints, never asserts):
#   tests/wasm-kernels/speed.sh [0|1|2|3]   (0 = all formats, 1 = q8_0, 2 = q4_K, 3 = q6_K)
#   tests/wasm-kernels/speed.sh model FILE.gguf [node options, e.g. --cpu-prof]
#     (whole model: 64-token prefill, 64 decoded tokens, as `dialogpt bench`)
set -euo pipefail
cd "$(dirname "$0")/../.."
cp -n Cargo.lock tests/wasm-kernels/Cargo.lock 2>/dev/null || true
dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --manifest-path tests/wasm-kernels/Cargo.toml --target wasm32-unknown-unknown --target-dir "$dir"
wasm="$dir/wasm32-unknown-unknown/release/wasm_kernels_check.wasm"
if [ "${1:-}" = model ]; then
    node "${@:3}" tests/wasm-kernels/run.mjs "$wasm" model "$2"
else
    node tests/wasm-kernels/run.mjs "$wasm" speed "${1:-0}"
fi
