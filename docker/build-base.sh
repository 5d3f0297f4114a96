#!/usr/bin/env bash
# Build a local Debian bookworm + python3 base image with debootstrap, for machines that cannot pull.
# Usage: docker/build-base.sh IMAGE_TAG      (does nothing when the image already exists)
set -euo pipefail
tag=${1:?usage: docker/build-base.sh IMAGE_TAG}
log() { printf '[base] %s\n' "$*" >&2; }

if docker image inspect "$tag" >/dev/null 2>&1; then exit 0; fi
command -v debootstrap >/dev/null || {
  log "installing debootstrap"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
}

# Use the mirror this machine's apt already uses (deb822 sources first, then the one-line format).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt sources"; exit 1; }

rootfs=$(mktemp -d /var/tmp/paperfleet-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
log "debootstrap bookworm (minbase + python3) into $rootfs (about a minute)"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" >/dev/null
log "importing as $tag"
# Apt caches, docs, man pages and locales are dead weight in a runtime base (265 MB -> ~125 MB).
tar -C "$rootfs" -c \
  --exclude=./var/cache/apt --exclude=./var/lib/apt/lists --exclude=./usr/share/doc \
  --exclude=./usr/share/man --exclude=./usr/share/locale --exclude=./usr/share/info . \
  | docker import -m "paperfleet local base: debian bookworm minbase + python3" - "$tag" >/dev/null
log "built $tag"
