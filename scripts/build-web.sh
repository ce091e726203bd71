#!/usr/bin/env bash
# Builds the web app for hosting: dist/ (index.html, app + worker wasm, loader, CSS).
# Any static file server can host dist/; see README "Web app". Extra arguments go to
# `trunk build`, e.g. `--public-url /docs/chat/ --dist target/dist-docs` for a fixed sub-path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh web
PATH="$PWD/tools/node_modules/.bin:$PATH" TRUNK_OFFLINE=true trunk build --release "$@"
