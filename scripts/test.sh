#!/usr/bin/env bash
# Runs every test: native unit + integration tests (engine fidelity against transformers,
# formats, tokenizer, session, CLI, web-app logic), then the web app built by trunk and
# driven end to end in headless Chromium (tests/e2e/run.mjs), then the fault and bad-input
# suite (tests/e2e/faults.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh native
echo "== native tests"
cargo test --all-targets
echo "== engine builds for wasm32-unknown-unknown"
cargo build --target wasm32-unknown-unknown --lib
echo "== quantized kernels on wasm32 (scalar + simd128 paths, in node)"
tests/wasm-kernels/run.sh
echo "== the same with the relaxed-SIMD kernels (the worker_relaxed build)"
KERNEL_FEATURES=relaxed-simd tests/wasm-kernels/run.sh
echo "== web app: build (trunk) and end-to-end test (headless Chromium)"
scripts/setup.sh e2e
scripts/build-web.sh
# The same app built for a fixed sub-path, served from there in the e2e test.
scripts/build-web.sh --public-url /sub/path/ --dist target/dist-subpath
node tests/e2e/run.mjs
echo "== faults and hostile input (headless Chromium)"
node tests/e2e/faults.mjs
echo "== all tests passed"
