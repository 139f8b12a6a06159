#!/usr/bin/env bash
# Builds the static binaries the FROM-scratch image needs into deploy/build/ (or $1), and the empty
# /data directory the image copies so that its volume belongs to the unprivileged user.
# It also makes the federation's certificates (a CA and one node certificate per compose service) in
# <out-dir>/certs, once: the compose federation runs mutual TLS between its regions. The image
# carries them, which is fine for a local demo and wrong for anything else: there, give every node
# only its own key.
# deploy/up.sh runs it before building the image; Dockerfile.multistage runs it inside Docker.
# Usage: deploy/build.sh [out-dir]    then: docker compose build   (or docker-compose build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/deploy/build}
mkdir -p "$out/data"
cd "$top"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/" \
  ./cmd/fedist-root ./cmd/fedist-node ./deploy/fedist-healthcheck

certs=$out/certs
if [[ ! -f $certs/ca.crt ]]; then
  "$out/fedist-root" certs init -dir "$certs"
fi
# service:region; the node name is the service name, and so is the host the others dial.
for sr in root:0001 root2:0001 root3:0001 a:00a0 a1:00a1 b:00b0; do
  svc=${sr%%:*} id=${sr##*:}
  if [[ ! -f $certs/node-$id-$svc.crt ]]; then
    "$out/fedist-root" certs node -dir "$certs" -id "$id" -name "$svc" -host "$svc,localhost,127.0.0.1"
  fi
done
