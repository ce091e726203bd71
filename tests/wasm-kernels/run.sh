#!/usr/bin/env bash
# Builds tests/wasm-kernels for wasm32 (simd128, from .cargo/config.toml) and runs it in node.
set -euo pipefail
cd "$(dirname "$0")/../.."
cp -n Cargo.lock tests/wasm-kernels/Cargo.lock 2>/dev/null || true
# The main package's target directory, so the wasm32 build of the engine is shared.
dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --manifest-path tests/wasm-kernels/Cargo.toml --target wasm32-unknown-unknown --target-dir "$dir"
node tests/wasm-kernels/run.mjs "$dir/wasm32-unknown-unknown/debug/wasm_kernels_check.wasm"
