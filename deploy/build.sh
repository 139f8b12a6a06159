#!/usr/bin/env bash
# Builds the static binaries the FROM-scratch image needs into deploy/build/ (or $1), and the empty
# /data directory the image copies so that its volume belongs to the unprivileged user.
# Usage: deploy/build.sh [out-dir]    then: docker compose build   (or docker-compose build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/deploy/build}
mkdir -p "$out/data"
cd "$top"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/" \
  ./cmd/fedist-root ./cmd/fedist-node ./deploy/fedist-healthcheck
