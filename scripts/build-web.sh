#!/usr/bin/env bash
# Builds the web app for hosting: dist/ (index.html, app + worker wasm, loader, CSS).
# Any static file server can host dist/; see README "Web app". Extra arguments go to
# `trunk build`, e.g. `--public-url /docs/chat/ --dist target/dist-docs` for a fixed sub-path.
# `--model PATH_OR_REPO [--quant q4_k] [--split-max-size 24M]` also puts that model in the
# site as its default (scripts/site-model.sh), in shards no larger than the given size.
set -euo pipefail
cd "$(dirname "$0")/.."
trunk_args=() site_args=() dist=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --model|--quant|--split-max-size) site_args+=("$1" "$2"); shift 2 ;;
    --dist) dist=$2; trunk_args+=("$1" "$2"); shift 2 ;;
    *) trunk_args+=("$1"); shift ;;
  esac
done
scripts/setup.sh web
PATH="$PWD/tools/node_modules/.bin:$PATH" TRUNK_OFFLINE=true trunk build --release ${trunk_args[@]+"${trunk_args[@]}"}
if [ ${#site_args[@]} -gt 0 ]; then
  scripts/site-model.sh "$dist" "${site_args[@]}"
fi
