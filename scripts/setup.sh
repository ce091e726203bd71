#!/usr/bin/env bash
# Installs what a fresh machine lacks; each step skips itself when the tool is present.
# Usage: scripts/setup.sh [native|web|e2e]   (each level includes the ones before it)
#   native: the Rust wasm32 target (the engine must also build for the browser)
#   web:    trunk, wasm-bindgen-cli (the exact version in Cargo.lock), binaryen's wasm-opt
#   e2e:    Chromium + chromedriver and playwright-core for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
level=${1:-native}
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
[ "$level" = native ] && exit 0

# Build tools are compiled for build speed, not run speed: trunk's own release profile (fat LTO,
# one codegen unit) is what made its install take about 13 minutes on two cores. Cargo's
# profile settings from the environment take precedence over the crates' manifests.
quick_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=false cargo install "$@"
}

# The wasm-bindgen CLI must match the library version exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wb_version}\$"; then
  log "installing wasm-bindgen-cli ${wb_version}"
  # Not --locked: a locked dependency of the CLI is missing from the registry mirror here.
  quick_install wasm-bindgen-cli --version "${wb_version}"
fi
if ! trunk --version 2>/dev/null | grep -q ' 0.21.14$'; then
  log "installing trunk 0.21.14 (0.22 needs a newer rustc)"
  quick_install trunk --locked --version 0.21.14
fi
if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  log "installing binaryen's wasm-opt from npm"
  mkdir -p tools
  (cd tools && npm install --no-audit --no-fund --silent binaryen@132.0.0)
fi
[ "$level" = web ] && exit 0

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  log "installing Chromium and chromedriver"
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver
fi
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  log "installing playwright-core"
  (cd tests/e2e && npm ci --no-audit --no-fund --silent)
fi
