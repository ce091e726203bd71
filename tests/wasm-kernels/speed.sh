#!/usr/bin/env bash
# Kernel throughput on wasm32 in node, for tuning by hand (prints, never asserts):
#   tests/wasm-kernels/speed.sh [0|1|2|3]   (0 = all formats, 1 = q8_0, 2 = q4_K, 3 = q6_K)
#   tests/wasm-kernels/speed.sh model FILE.gguf [node options, e.g. --cpu-prof]
#     (whole model: 64-token prefill, 64 decoded tokens, as `dialogpt bench`)
set -euo pipefail
# KERNEL_FEATURES=relaxed-simd builds the relaxed-SIMD kernels (node 20 runs them with
# --experimental-wasm-relaxed-simd, added here; newer node needs no flag).
NODE_FLAGS=""
if [ "${KERNEL_FEATURES:-}" = relaxed-simd ] && node --v8-options | grep -q experimental-wasm-relaxed-simd; then
    NODE_FLAGS="--experimental-wasm-relaxed-simd"
fi
cd "$(dirname "$0")/../.."
cp -n Cargo.lock tests/wasm-kernels/Cargo.lock 2>/dev/null || true
dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build ${KERNEL_FEATURES:+--features dialogpt-web/$KERNEL_FEATURES} --release --manifest-path tests/wasm-kernels/Cargo.toml --target wasm32-unknown-unknown --target-dir "$dir"
wasm="$dir/wasm32-unknown-unknown/release/wasm_kernels_check.wasm"
if [ "${1:-}" = model ]; then
    node $NODE_FLAGS "${@:3}" tests/wasm-kernels/run.mjs "$wasm" model "$2"
else
    node $NODE_FLAGS tests/wasm-kernels/run.mjs "$wasm" speed "${1:-0}"
fi
