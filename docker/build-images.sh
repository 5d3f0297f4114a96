#!/usr/bin/env bash
# Build the Paperfleet images (paperfleet-{fno,equity,options,single,eod}:latest) with Docker Compose.
# Idempotent: picks the base image, fills build/wheelhouse only when the pinned dependencies changed, and
# skips the build when every image already carries the current source hash (label paperfleet.source-hash).
# Usage: docker/build-images.sh          (PAPERFLEET_BASE_IMAGE=IMAGE forces the base image)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OFFICIAL_BASE=python:3.11-slim-bookworm
LOCAL_BASE=paperfleet-base:bookworm
WHEELHOUSE="$ROOT/build/wheelhouse"
ROLES=(fno equity options single eod)
log() { printf '[images] %s\n' "$*" >&2; }

# The venv's python reads pyproject.toml (tomllib); its pip fills the wheelhouse.
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=python3

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

choose_base() {
  if [ -n "${PAPERFLEET_BASE_IMAGE:-}" ]; then
    BASE=$PAPERFLEET_BASE_IMAGE
    log "base image: $BASE (from PAPERFLEET_BASE_IMAGE)"
    if [ "$BASE" = "$LOCAL_BASE" ]; then bash docker/build-base.sh "$LOCAL_BASE"; fi
  elif image_exists "$OFFICIAL_BASE"; then
    BASE=$OFFICIAL_BASE
    log "base image: $BASE (present locally)"
  elif timeout 60 docker pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
    BASE=$OFFICIAL_BASE
    log "base image: $BASE (pulled)"
  else
    BASE=$LOCAL_BASE
    log "base image: $BASE ($OFFICIAL_BASE cannot be pulled; building the local one only if missing)"
    bash docker/build-base.sh "$LOCAL_BASE"
  fi
  image_exists "$BASE" || { log "base image $BASE is not available"; exit 1; }
}

write_env() {
  # .env (git-ignored) makes a bare `docker compose build|up` use the same base; other lines are kept.
  local line="PAPERFLEET_BASE_IMAGE=$BASE" file="$ROOT/.env"
  if [ -f "$file" ] && grep -qxF "$line" "$file"; then return; fi
  if [ -f "$file" ] && grep -q '^PAPERFLEET_BASE_IMAGE=' "$file"; then
    sed -i "s|^PAPERFLEET_BASE_IMAGE=.*|$line|" "$file"
  else
    printf '%s\n' "$line" >>"$file"
  fi
  log "wrote $line to .env"
}

build_wheelhouse() {
  # The runtime dependencies exactly as pinned in pyproject.toml: the one list, read here, never copied.
  local reqs eod want stamp="$WHEELHOUSE/.stamp" tmp
  reqs=$("$PY" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))')
  eod=$("$PY" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["eod"]))')
  local platform=(--only-binary=:all: --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64
    --python-version 3.11 --implementation cp --abi cp311)
  want=$(printf '%s\n%s\n%s\n' "$reqs" "$eod" "${platform[*]}" | cat - constraints.txt | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$WHEELHOUSE/requirements-eod.txt" ]; then return; fi
  log "downloading the runtime dependency wheels into build/wheelhouse"
  tmp="$WHEELHOUSE.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  printf '%s\n' "$reqs" >"$tmp/requirements.txt"        # the engine images
  printf '%s\n' "$eod" >"$tmp/requirements-eod.txt"     # added in the eod image
  # (The grep drops pip's notes about this machine's configured local indexes that do not exist.)
  # constraints.txt pins the transitive dependencies too, so every build gets the same wheels.
  "$PY" -m pip download -q --disable-pip-version-check "${platform[@]}" -d "$tmp" -r "$tmp/requirements.txt" -r "$tmp/requirements-eod.txt" \
    -c constraints.txt \
    2>&1 | { grep -v '^WARNING: Location .* is ignored' >&2 || true; }
  echo "$want" >"$tmp/.stamp"
  rm -rf "$WHEELHOUSE"
  mv "$tmp" "$WHEELHOUSE"
  log "wheelhouse: $(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELHOUSE" | cut -f1)"
}

source_hash() {
  # Everything the images are made of: the Dockerfile, the context rules, the pins, the code, the config and
  # the base image's id (a rebuilt base invalidates the images).
  local base_id
  base_id=$(docker image inspect --format '{{.Id}}' "$BASE")
  {
    echo "base $BASE $base_id"
    find docker/Dockerfile .dockerignore pyproject.toml constraints.txt engines session configs \
      -name __pycache__ -prune -o -type f ! -name '*.py[co]' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

images_current() {
  local role label
  for role in "${ROLES[@]}"; do
    label=$(docker image inspect --format '{{index .Config.Labels "paperfleet.source-hash"}}' \
      "paperfleet-$role:latest" 2>/dev/null) || return 1
    [ "$label" = "$1" ] || return 1
  done
}

main() {
  choose_base
  write_env
  build_wheelhouse
  local hash
  hash=$(source_hash)
  if images_current "$hash"; then
    log "images are current (source hash $hash): nothing to build"
    return
  fi
  log "building ${ROLES[*]} on $BASE (source hash $hash)"
  local start=$SECONDS
  # compose reads the build args from these (compose.yaml); --profile brings in the single and eod images.
  PAPERFLEET_BASE_IMAGE=$BASE PAPERFLEET_SOURCE_HASH=$hash \
    docker compose --profile single --profile eod build
  images_current "$hash" || { log "the build did not label every image with $hash"; exit 1; }
  # The images this build replaced are left untagged: remove them (ours only, by their title label).
  docker image prune -f --filter "label=org.opencontainers.image.title=paperfleet" >/dev/null
  log "built in $((SECONDS - start)) s: $(for r in "${ROLES[@]}"; do printf 'paperfleet-%s ' "$r"; done)"
}
main "$@"
