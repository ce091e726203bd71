#!/usr/bin/env bash
# Installs what a fresh machine lacks; each step skips itself when the tool is present.
# Usage: scripts/setup.sh [native|web|e2e]   (each level includes the ones before it)
#   native: the Rust wasm32 target (the engine must also build for the browser)
#   web:    trunk, wasm-bindgen-cli (the exact version in Cargo.lock), binaryen's wasm-opt
#           (node, which npm needs anyway, also runs scripts/precache.mjs after each trunk build),
#           a nightly toolchain with rust-src (the threaded worker rebuilds std with atomics)
#   e2e:    the browsers the tests drive (Debian's Chromium, Firefox ESR, WebKitGTK's WebKitWebDriver
#           and MiniBrowser with Xvfb for its display) and their drivers from npm (playwright-core,
#           puppeteer-core, selenium-webdriver) with axe-core
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
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
  log "adding a nightly toolchain with rust-src (the threaded worker: std rebuilt with atomics)"
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  rustup component add rust-src --toolchain nightly
fi
if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  log "installing binaryen's wasm-opt from npm"
  mkdir -p tools
  (cd tools && npm install --no-audit --no-fund --silent binaryen@132.0.0)
fi
[ "$level" = web ] && exit 0

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || missing+=(xvfb)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
for m in playwright-core puppeteer-core selenium-webdriver axe-core; do
  if [ ! -d "tests/e2e/node_modules/$m" ]; then
    log "installing the browser drivers and axe-core from npm"
    (cd tests/e2e && npm ci --no-audit --no-fund --silent)
    break
  fi
done
