#!/usr/bin/env bash
# Runs every test: native unit + integration tests (engine fidelity against transformers,
# formats, tokenizer, session, CLI, web-app logic), then the web app built by trunk and
# driven end to end (tests/e2e/run.mjs) and through faults and hostile input
# (tests/e2e/faults.mjs) in each browser engine: Chromium, Firefox and WebKit.
# E2E_BROWSERS="firefox" (a space-separated list) runs the browser suites in those alone.
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
echo "== the same on 2 threads sharing one memory (the worker_threads build, with its split paths)"
scripts/setup.sh web
THREADS=2 tests/wasm-kernels/run.sh
echo "== web app: build (trunk)"
scripts/setup.sh e2e
scripts/build-web.sh
# The same app built for a fixed sub-path, served from there in the e2e test.
scripts/build-web.sh --public-url /sub/path/ --dist target/dist-subpath
for browser in ${E2E_BROWSERS:-chromium firefox webkit}; do
  echo "== end-to-end in $browser"
  node tests/e2e/run.mjs --browser "$browser"
  echo "== faults and hostile input in $browser"
  node tests/e2e/faults.mjs --browser "$browser"
done
echo "== all tests passed"
