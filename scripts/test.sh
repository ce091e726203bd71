#!/usr/bin/env bash
# Runs every test: native unit + integration tests (engine fidelity against transformers,
# formats, tokenizer, session, CLI, web-app logic), then the web app built by trunk and
# driven end to end (tests/e2e/run.mjs) and through faults and hostile input
# (tests/e2e/faults.mjs) in each browser engine: Chromium, Firefox and WebKit.
# E2E_BROWSERS="firefox" (a space-separated list) runs the browser suites in those alone.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's wall time, printed at the end (or at the failure): CI must stay well under its
# limit, and this says where the time goes.
stages=() stage_name="setup" stage_start=$SECONDS
stage() {
  stages+=("$(printf '%5d s  %s' $((SECONDS - stage_start)) "$stage_name")")
  stage_name=$1 stage_start=$SECONDS
  echo "== $1"
}
report() {
  stages+=("$(printf '%5d s  %s' $((SECONDS - stage_start)) "$stage_name")")
  echo "== time per stage (total $SECONDS s)"
  printf '   %s\n' "${stages[@]}"
}
trap report EXIT
scripts/setup.sh native
stage "native tests"
cargo test --all-targets
stage "engine builds for wasm32-unknown-unknown"
cargo build --target wasm32-unknown-unknown --lib
stage "quantized kernels on wasm32 (scalar + simd128 paths, in node)"
tests/wasm-kernels/run.sh
stage "the same with the relaxed-SIMD kernels (the worker_relaxed build)"
KERNEL_FEATURES=relaxed-simd tests/wasm-kernels/run.sh
stage "web tools (trunk, wasm-bindgen, wasm-opt, nightly std; each skipped when present)"
scripts/setup.sh web
stage "the same on 2 threads sharing one memory (the worker_threads build, with its split paths)"
THREADS=2 tests/wasm-kernels/run.sh
stage "browsers and the e2e packages (each skipped when present)"
scripts/setup.sh e2e
stage "web app: build (trunk), then the sub-path build"
scripts/build-web.sh
# The same app built for a fixed sub-path, served from there in the e2e test.
scripts/build-web.sh --public-url /sub/path/ --dist target/dist-subpath
for browser in ${E2E_BROWSERS:-chromium firefox webkit}; do
  stage "end-to-end in $browser"
  node tests/e2e/run.mjs --browser "$browser"
  stage "faults and hostile input in $browser"
  node tests/e2e/faults.mjs --browser "$browser"
done
stage "all tests passed"
