#!/usr/bin/env bash
# Runs every test: native unit + integration tests (engine fidelity against transformers,
# formats, tokenizer, session, CLI), then the engine's wasm32 build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh native
echo "== native tests"
cargo test --all-targets
echo "== engine builds for wasm32-unknown-unknown"
cargo build --target wasm32-unknown-unknown --lib
echo "== all tests passed"
