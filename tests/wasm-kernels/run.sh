#!/usr/bin/env bash
# Builds tests/wasm-kernels for wasm32 (simd128, from .cargo/config.toml) and runs it in node.
set -euo pipefail
# KERNEL_FEATURES=relaxed-simd builds the relaxed-SIMD kernels (node 20 runs them with
# --experimental-wasm-relaxed-simd, added here; newer node needs no flag).
NODE_FLAGS=""
if [ "${KERNEL_FEATURES:-}" = relaxed-simd ] && node --v8-options | grep -q experimental-wasm-relaxed-simd; then
    NODE_FLAGS="--experimental-wasm-relaxed-simd"
fi
cd "$(dirname "$0")/../.."
cp -n Cargo.lock tests/wasm-kernels/Cargo.lock 2>/dev/null || true
# The main package's target directory, so the wasm32 build of the engine is shared.
dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build ${KERNEL_FEATURES:+--features dialogpt-web/$KERNEL_FEATURES} --manifest-path tests/wasm-kernels/Cargo.toml --target wasm32-unknown-unknown --target-dir "$dir"
node $NODE_FLAGS tests/wasm-kernels/run.mjs "$dir/wasm32-unknown-unknown/debug/wasm_kernels_check.wasm"
