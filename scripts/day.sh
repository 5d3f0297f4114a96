#!/usr/bin/env bash
# The main job: one whole simulated NSE trading day through the containers (multi layout: one container per
# engine), then the end-of-day report; the last line printed is the report's path. Sets up whatever is
# missing first (venv, Docker engine, Compose plugin, images). Extra arguments go to `session run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
exec .venv/bin/session run --layout multi --speed max --fresh "$@"
