#!/usr/bin/env bash
# Builds the threaded inference workers (worker_threads.js + worker_threads_bg.wasm, the same
# for worker_threads_relaxed) into a web build's folder: trunk's post-build hook runs it on its
# staging folder, before scripts/precache.mjs lists the files.
#   scripts/build-threads-worker.sh [DIR]   (default: $TRUNK_STAGING_DIR)
# Wasm threads need std compiled with the atomics target feature, which only a nightly
# toolchain builds (-Z build-std, from the rust-src component; scripts/setup.sh web installs
# both). Its own target folder keeps these flags from rebuilding the other builds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${TRUNK_STAGING_DIR:-}}"
if [ -z "$out" ] || [ ! -d "$out" ]; then
  echo "build-threads-worker: no output folder (give one, or run as trunk's hook)" >&2
  exit 2
fi
profile=wasm-worker
target_dir="$root/target/threads"
source "$root/scripts/threads-env.sh"
# binaryen from tools/ (scripts/setup.sh web), as trunk uses for the other builds.
wasm_opt="$root/tools/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || wasm_opt=wasm-opt
# Two builds, as for one thread: plain simd128 kernels, and relaxed-SIMD ones for the browsers
# that validate them (the page picks). Cargo keeps each feature set's artifacts apart.
for variant in worker_threads worker_threads_relaxed; do
  features=threads wasm_features=()
  if [ "$variant" = worker_threads_relaxed ]; then
    features=threads,relaxed-simd wasm_features=(--enable-relaxed-simd)
  fi
  cargo +nightly build --manifest-path "$root/Cargo.toml" -Z build-std=std,panic_abort \
    --target wasm32-unknown-unknown --profile "$profile" --target-dir "$target_dir" \
    --bin worker_threads --features "$features"
  wasm-bindgen --target no-modules --no-typescript --out-dir "$out" --out-name "$variant" \
    "$target_dir/wasm32-unknown-unknown/$profile/worker_threads.wasm"
  "$wasm_opt" -O3 --enable-threads --enable-simd --enable-bulk-memory --enable-mutable-globals \
    --enable-sign-ext --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    "${wasm_features[@]}" "$out/${variant}_bg.wasm" -o "$out/${variant}_bg.wasm"
  echo "build-threads-worker: $(du -k "$out/${variant}_bg.wasm" | cut -f1) KiB -> $out/${variant}_bg.wasm"
done
