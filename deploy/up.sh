#!/usr/bin/env bash
# Starts the compose federation (docker-compose.yml) with one command, from a fresh clone:
#   1. deploy/build.sh: static binaries and the federation's certificates into deploy/build/;
#   2. compose build: the FROM-scratch image fedist:local, once (only the root service builds it);
#   3. compose up -d, then waits until Docker reports every service healthy, printing each change;
#   4. prints the published ports and how to connect.
# When step 3 fails, times out or is interrupted, it says why, shows each container's last log lines
# and runs compose down -v: no container, network or volume is left behind. A failure in step 1 or 2
# has started nothing and leaves a federation that is already running alone.
# Rerun it after changing Go code: compose recreates the containers whose image changed, and the named
# volumes keep each region's data. deploy/down.sh removes everything.
#
# Usage: deploy/up.sh       (needs docker with compose v2 or docker-compose v1, go; curl and jq are optional)
# Env:   FEDIST_PORT_PREFIX    host ports <prefix>42x2 (client) and <prefix>82x2 (http), 1 or 2; default 1
#        COMPOSE_PROJECT_NAME  compose project; default Compose's own, the repository directory's name
#        UP_TIMEOUT            seconds to wait for every service to be healthy; default 60
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/compose-lib.sh"
UP_TIMEOUT=${UP_TIMEOUT:-60}

started=0 # set once compose may have made something that a failure must remove
logdir=$(mktemp -d)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  restore_stdio
  stop_child
  if ((rc != 0 && started)); then
    say "last log lines of each container:"
    dc 30 logs --no-color --tail 20 2>&1 || true
    say "removing what this start made: compose down -v"
    dc 120 down -v --remove-orphans >"$logdir/down.log" 2>&1 || cat "$logdir/down.log"
  fi
  rm -rf "$logdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'die "interrupted"' INT TERM
die() {
  restore_stdio
  say "deploy/up.sh failed: $*"
  exit 1
}

# --- preflight ---------------------------------------------------------------------------------
for tool in docker go timeout; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
find_compose || die "no Compose"
check_prefix || die "bad FEDIST_PORT_PREFIX"
[[ $UP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "UP_TIMEOUT=$UP_TIMEOUT: want a number of seconds"
timeout 20 docker info >/dev/null 2>&1 || die "the Docker engine does not answer (docker info); is dockerd running, and may you use it?"
existing=$(dc 30 ps -a -q 2>/dev/null) || die "compose ps: $(dc 30 ps -a -q 2>&1 | tail -n 3)"
say "using ${compose[*]}; host ports ${prefix}42x2 (client) and ${prefix}82x2 (http)"
if [[ -z $existing ]]; then
  busy=$(busy_ports)
  [[ -z $busy ]] || die "in use: $(paste -sd ' ' <<<"$busy"); stop what listens there, or set FEDIST_PORT_PREFIX=2 (or 1) and COMPOSE_PROJECT_NAME to run a second copy"
else
  say "the project already has containers: updating them (a failure from here on removes them)"
fi

# --- build -------------------------------------------------------------------------------------
t=$(now_ms)
say "building static binaries (CGO_ENABLED=0) and certificates into deploy/build/"
bounded 600 "$top/deploy/build.sh" || die "deploy/build.sh (nothing was started)"
say "binaries built in $(secs "$t") s"
t=$(now_ms)
dc 300 build >"$logdir/build.log" 2>&1 || { cat "$logdir/build.log"; die "compose build (nothing was started)"; }
say "image built in $(secs "$t") s: $(timeout 10 docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' fedist:local)"

# --- up ----------------------------------------------------------------------------------------
t=$(now_ms)
started=1
say "compose up -d"
dc 120 up -d --remove-orphans >"$logdir/up.log" 2>&1 || { cat "$logdir/up.log"; die "compose up -d"; }
sed 's/^/    /' "$logdir/up.log"
find_containers
declare -A seen
while :; do
  ready=0
  for s in "${services[@]}"; do
    st=$(health "$s")
    if [[ $st != "${seen[$s]:-}" ]]; then
      say "$s (${id[$s]}): $st"
      seen[$s]=$st
    fi
    case $st in
    healthy) ready=$((ready + 1)) ;;
    starting | running | created) ;;
    *) die "$s is $st (see its log lines below)" ;;
    esac
  done
  ((ready == ${#services[@]})) && break
  if (($(now_ms) - t >= UP_TIMEOUT * 1000)); then
    states=()
    for s in "${services[@]}"; do states+=("$s=${seen[$s]}"); done
    die "not every service is healthy within ${UP_TIMEOUT} s: ${states[*]}"
  fi
  sleep 0.5
done
say "all ${#services[@]} regions healthy $(secs "$t") s after compose up"

# --- how to connect ----------------------------------------------------------------------------
project=$(timeout 10 docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "${cid[root]}" 2>/dev/null) || project=?
d="" # how to reach the repository's files and run compose from where the user is
[[ $PWD == "$top" ]] || d="$top/"
dcline="${compose[*]}"
[[ -z $d ]] || dcline+=" -f ${d}docker-compose.yml"
[[ -z ${COMPOSE_PROJECT_NAME:-} ]] || dcline+=" -p $COMPOSE_PROJECT_NAME"
echo
echo "The federation runs as compose project $project. Published on 127.0.0.1:"
printf '  %-7s %-6s %-24s %s\n' service region "client (TLS, user demo)" "http (/healthz, /registry)"
for s in "${services[@]}"; do
  printf '  %-7s %-6s %-24s %s\n' "$s" "${id[$s]}" "127.0.0.1:${client[$s]}" "127.0.0.1:${http[$s]}"
done
if command -v curl >/dev/null && command -v jq >/dev/null; then
  echo "Client URLs in a1's registry (each region advertises 127.0.0.1 and its published client port):"
  curl -fsS -m 2 "http://127.0.0.1:${http[a1]}/registry" 2>/dev/null |
    jq -r '.[] | "  \(.id) \(.name) \(.status) \(.client_urls | join(" "))"' 2>/dev/null || echo "  (a1's /registry did not answer)"
fi
cat <<EOF
Try:
  curl -s 127.0.0.1:${http[a1]}/registry     # a1's copy of the registry: four regions, all active
  nats --server tls://127.0.0.1:${client[a1]} --tlsca ${d}deploy/build/certs/ca.crt --user demo --password demo \\
    --inbox-prefix _INBOX.${id[a1]} kv watch fedist-registry
  $dcline logs -f b
  $dcline stop b     # b is "down" in every region's registry within a second
  $dcline start b
  ${COMPOSE_PROJECT_NAME:+COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME }${d}deploy/down.sh     # remove the containers, the network and the volumes
A client of a region connects to that region's client port and uses its inbox prefix, _INBOX.<region ID>.
EOF
