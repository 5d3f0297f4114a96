#!/usr/bin/env bash
# Prepare this machine to run Paperfleet: venv, Docker engine, Compose plugin, base and app images.
# Idempotent: every step checks first and does nothing when its result is already there.
# Usage: scripts/setup.sh [venv|docker|images|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
COMPOSE_VERSION=2.40.3
log() { printf '[setup] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # apt-get update once per setup run, then install what is missing.
  if [ -z "${_APT_UPDATED:-}" ]; then as_root apt-get update -q >/dev/null; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "$@" >/dev/null
}

setup_venv() {
  local stamp="$VENV/.paperfleet-deps" want
  want=$(sha256sum pyproject.toml | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    log "Python 3.11+ is required (found: $(python3 --version 2>&1))"; exit 1
  fi
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    log "installing python3-venv"; apt_install python3-venv
  fi
  log "creating venv and installing pinned dependencies"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q -e '.[dev]'
  echo "$want" >"$stamp"
}

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

setup_docker_engine() {
  if docker_answers; then return; fi
  if ! command -v dockerd >/dev/null; then
    log "installing the Docker engine (docker.io)"; apt_install docker.io
  fi
  if ! pgrep -x dockerd >/dev/null; then
    # A daemon killed earlier leaves pid files that make the next start wait on a dead containerd.
    as_root rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
    log "starting dockerd (log: /var/log/paperfleet-dockerd.log)"
    as_root setsid nohup dockerd >/var/log/paperfleet-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 150); do docker_answers && return; sleep 0.2; done
  log "dockerd did not answer within 30 s; see /var/log/paperfleet-dockerd.log"; exit 1
}

setup_compose_plugin() {
  if docker compose version --short 2>/dev/null | grep -qx "$COMPOSE_VERSION"; then return; fi
  local dir
  if [ "$(id -u)" = 0 ]; then dir=/usr/local/lib/docker/cli-plugins; else dir="$HOME/.docker/cli-plugins"; fi
  log "installing the Compose v$COMPOSE_VERSION CLI plugin into $dir"
  mkdir -p "$dir"
  # Copied, not linked: a plugin must outlive the clone whose venv brought it.
  install -m 0755 "$VENV/bin/docker-compose" "$dir/docker-compose"
}

main() {
  local what=${1:-all}
  case "$what" in
    venv) setup_venv ;;
    docker) setup_venv; setup_docker_engine; setup_compose_plugin ;;
    images|all) setup_venv; setup_docker_engine; setup_compose_plugin; bash docker/build-images.sh ;;
    *) log "usage: $0 [venv|docker|images|all]"; exit 2 ;;
  esac
}
main "$@"
