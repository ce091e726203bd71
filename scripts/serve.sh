#!/usr/bin/env bash
# Serves the web app. The web layer (Yew page + inference worker) is the next milestone; until it
# lands this says so and shows how to chat with the same engine in a terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f index.html ]; then
  echo "The web app is not built yet (engine and CLI only)." >&2
  echo "Chat with the test model in a terminal meanwhile:" >&2
  echo "  cargo run --release -- chat --model tests/fixtures/tiny-dialogpt" >&2
  exit 1
fi
scripts/setup.sh web
PATH="$PWD/tools/node_modules/.bin:$PATH" TRUNK_OFFLINE=true exec trunk serve "$@"
