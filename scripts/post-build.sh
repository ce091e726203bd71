#!/usr/bin/env bash
# Trunk's post-build hook (Trunk.toml), on its staging folder: the threaded worker, which trunk
# cannot build itself (scripts/build-threads-worker.sh), then the service worker's list of the
# build's files (scripts/precache.mjs), which must include it. One hook, because trunk runs
# the hooks of one stage side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-threads-worker.sh "$TRUNK_STAGING_DIR"
node scripts/precache.mjs "$TRUNK_STAGING_DIR"
