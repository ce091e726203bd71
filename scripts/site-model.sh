#!/usr/bin/env bash
# Makes a model the default of a built site: converts/quantizes it with the `dialogpt` CLI
# into DIST/models/ (split into shards that fit a static host's file-size limit) and writes
# DIST/dialogpt-site.json, which the page reads at start (URL parameters still win).
#   scripts/site-model.sh DIST --model PATH_OR_REPO [--quant q4_k] [--split-max-size 24M]
# scripts/build-web.sh --model … runs this after building DIST. DIALOGPT_BIN names an
# already built `dialogpt` binary; otherwise it is built (release).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:?usage: scripts/site-model.sh DIST --model PATH_OR_REPO [--quant Q] [--split-max-size N]}
shift
model="" quant="q4_k" split=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --quant) quant=$2; shift 2 ;;
    --split-max-size) split=$2; shift 2 ;;
    *) echo "site-model: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$model" ] || { echo "site-model: --model is required" >&2; exit 2; }
[ -f "$dist/index.html" ] || { echo "site-model: $dist/index.html is missing: build the site first" >&2; exit 2; }
if [ -n "${DIALOGPT_BIN:-}" ]; then
  bin=$DIALOGPT_BIN
else
  cargo build --release --bin dialogpt
  bin=target/release/dialogpt
fi
name=$(basename "${model%/}")
name=${name%.*}
name=$(echo "$name" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_.\n-' '-')-$quant
mkdir -p "$dist/models"
# A previous default of the same name goes first: its shards would mix with the new ones.
rm -f "$dist/models/$name".gguf "$dist/models/$name"-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9].gguf
args=(quantize "$model" "$dist/models/$name.gguf" --type "$quant" --name "$name")
[ -n "$split" ] && args+=(--split-max-size "$split")
"$bin" "${args[@]}"
first=""
for f in "$dist/models/$name.gguf" "$dist/models/$name"-00001-of-[0-9][0-9][0-9][0-9][0-9].gguf; do
  [ -f "$f" ] && first=models/$(basename "$f") && break
done
[ -n "$first" ] || { echo "site-model: no model was written" >&2; exit 1; }
printf '{ "model": "%s", "quant": "%s" }\n' "$first" "$quant" > "$dist/dialogpt-site.json"
echo "site default: $first (dialogpt-site.json)"
# The service worker lists the settings file too (it changed the build).
node scripts/precache.mjs "$dist"
