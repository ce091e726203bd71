#!/usr/bin/env bash
# Serves the web app with trunk (rebuilds on change) at http://127.0.0.1:8080/ .
# Extra arguments go to `trunk serve`, e.g. `scripts/serve.sh --release --port 9000`.
# Open e.g. http://127.0.0.1:8080/?model=microsoft/DialoGPT-small to load a model at once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh web
# Offline: trunk must use the tools installed by setup.sh, never download its own.
PATH="$PWD/tools/node_modules/.bin:$PATH" TRUNK_OFFLINE=true exec trunk serve "$@"
