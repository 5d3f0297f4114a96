#!/usr/bin/env bash
# The test command: lint, type checks, the fast unit tests, then the whole-day and Docker integration tests.
# Sets up whatever is missing first (venv, Docker engine, Compose plugin, images). Extra arguments go to the
# second pytest run (e.g. -k multi).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
export PAPERFLEET_REQUIRE_DOCKER=1  # the Docker tests must run here, never skip
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest -m "not slow and not docker"
.venv/bin/pytest -m "slow or docker" "$@"
