#!/usr/bin/env bash
# Removes the compose federation deploy/up.sh started: its containers, its network and, unless
# --keep-data, its named volumes (each region's JetStream data). The image fedist:local stays; the
# next deploy/up.sh rebuilds it from its cache in about a second.
#
# Usage: deploy/down.sh [--keep-data]
# Env:   COMPOSE_PROJECT_NAME  the project deploy/up.sh ran under, if it was set there
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/compose-lib.sh"
case ${1:-} in
"") args=(down -v --remove-orphans) ;;
--keep-data) args=(down --remove-orphans) ;;
*)
  echo "usage: deploy/down.sh [--keep-data]" >&2
  exit 2
  ;;
esac
trap 'restore_stdio; stop_child; exit 1' INT TERM
find_compose
say "${compose[*]} ${args[*]}"
dc 120 "${args[@]}"
say "done"
