#!/usr/bin/env bash
# Checks the top-level docker-compose.yml end to end, on this machine's Docker engine:
#   1. builds the static binaries (deploy/build.sh) and the FROM-scratch image (compose build);
#   2. starts root <- a <- a1 and root <- b, and waits until every /healthz answers 200;
#   3. reads a1's registry (GET /registry) and checks all four regions are active, with the right parents;
#   4. stops b (SIGTERM) and checks a1 sees it down within DOWN_TIMEOUT, then starts it and checks it is
#      active again; then the same with SIGKILL;
#   5. removes everything it made (compose down -v) on any exit, and prints PASS or FAIL.
# It only talks to its own compose project and to 127.0.0.1.
#
# Usage: integration/compose/check.sh           (needs docker, compose v2 or docker-compose, go, curl, jq)
# Env:   FEDIST_PORT_PREFIX    host ports <prefix>42x2 (client) and <prefix>82x2 (http), 1 or 2; default 1
#        COMPOSE_PROJECT_NAME  compose project; default fedist-check
#        UP_TIMEOUT DOWN_TIMEOUT BACK_TIMEOUT  seconds; defaults 60, 10, 30
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
file=$top/docker-compose.yml
project=${COMPOSE_PROJECT_NAME:-fedist-check}
export FEDIST_PORT_PREFIX=${FEDIST_PORT_PREFIX:-1}
prefix=$FEDIST_PORT_PREFIX
UP_TIMEOUT=${UP_TIMEOUT:-60}
DOWN_TIMEOUT=${DOWN_TIMEOUT:-10}
BACK_TIMEOUT=${BACK_TIMEOUT:-30}

# The regions of the compose file, by service: region ID, parent, and host ports (http, client).
services=(root a a1 b)
declare -A id=([root]=0001 [a]=00a0 [a1]=00a1 [b]=00b0)
declare -A parent=([root]="" [a]=0001 [a1]=00a0 [b]=0001)
declare -A http=([root]=${prefix}8222 [a]=${prefix}8232 [a1]=${prefix}8242 [b]=${prefix}8252)
declare -A client=([root]=${prefix}4222 [a]=${prefix}4232 [a1]=${prefix}4242 [b]=${prefix}4252)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
start_ms=$(now_ms)
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }
say() { printf '[%6ss] %s\n' "$(secs "$start_ms")" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

started=0
logdir=$(mktemp -d)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((started)); then
    if ((rc != 0)); then
      say "last log lines of each container:"
      dc 30 logs --no-color --tail 25 2>&1 | sed 's/\x1b\[[0-9;]*m//g' || true
    fi
    say "tearing down: compose down -v"
    dc 90 down -v --remove-orphans >"$logdir/down.log" 2>&1 || { cat "$logdir/down.log"; rc=1; }
  fi
  rm -rf "$logdir"
  if ((rc == 0)); then say "PASS (total $(secs "$start_ms") s)"; else say "FAIL (total $(secs "$start_ms") s)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# --- preflight ---------------------------------------------------------------------------------
for tool in docker go curl jq timeout; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  fail "neither 'docker compose' nor 'docker-compose' works"
fi
# dc SECONDS ARGS...: one compose command on this project, bounded in time.
dc() { local t=$1; shift; timeout "$t" "${compose[@]}" -p "$project" -f "$file" "$@"; }

[[ $prefix =~ ^[12]$ ]] || fail "FEDIST_PORT_PREFIX=$prefix: want 1 or 2 (3 and up reach the ephemeral port range)"
[[ -z $(dc 30 ps -q 2>/dev/null) ]] ||
  fail "compose project $project already has containers; take it down or set COMPOSE_PROJECT_NAME"
for s in "${services[@]}"; do
  for p in "${http[$s]}" "${client[$s]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      fail "127.0.0.1:$p is in use; set FEDIST_PORT_PREFIX=1 or 2 to use the other set of ports"
    fi
  done
done
say "using ${compose[*]}, project $project, host ports ${prefix}42x2 (client) and ${prefix}82x2 (http)"

# --- helpers -----------------------------------------------------------------------------------
healthz() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:${http[$1]}/healthz" 2>/dev/null; }
registry() { curl -fsS -m 2 "http://127.0.0.1:${http[a1]}/registry"; }
# status_in_a1 SERVICE: the region's status in a1's registry ("" when absent or a1 does not answer).
status_in_a1() { registry 2>/dev/null | jq -r --arg id "${id[$1]}" '.[] | select(.id == $id) | .status' 2>/dev/null || true; }
summary() { registry 2>/dev/null | jq -r '[.[] | "\(.id)=\(.status)"] | join(" ")' 2>/dev/null || echo "(no answer)"; }

# wait_until SECONDS SINCE_MS WHAT CMD...: poll CMD every 200 ms until it succeeds or SECONDS have
# passed since SINCE_MS; then print how long it took since SINCE_MS.
wait_until() {
  local limit=$1 since=$2 what=$3
  shift 3
  until "$@"; do
    (($(now_ms) - since < limit * 1000)) || fail "$what: not within ${limit} s"
    sleep 0.2
  done
  say "$what after $(secs "$since") s"
}
is_status() { [[ $(status_in_a1 "$1") == "$2" ]]; }

# check_bounce HOW: take b away with HOW (stop or kill), see it down in a1's registry, start it again,
# see it active.
check_bounce() {
  local how=$1 t0
  say "b: compose $how"
  t0=$(now_ms)
  dc 60 "$how" b >"$logdir/$how.log" 2>&1 || { cat "$logdir/$how.log"; fail "compose $how b"; }
  say "b: compose $how returned after $(secs "$t0") s"
  wait_until "$DOWN_TIMEOUT" "$t0" "b ($how) is down in a1's registry" is_status b down
  say "a1's registry: $(summary)"
  for s in root a a1; do is_status "$s" active || fail "$s is not active while b is away: $(summary)"; done
  say "b: compose start"
  t0=$(now_ms)
  dc 60 start b >"$logdir/start.log" 2>&1 || { cat "$logdir/start.log"; fail "compose start b"; }
  wait_until "$BACK_TIMEOUT" "$t0" "b is active again in a1's registry" is_status b active
  wait_until "$BACK_TIMEOUT" "$t0" "b's /healthz answers 200" healthz b
}

# --- build -------------------------------------------------------------------------------------
t=$(now_ms)
say "building static binaries (CGO_ENABLED=0) into deploy/build/"
timeout 600 "$top/deploy/build.sh" || fail "deploy/build.sh"
say "binaries built in $(secs "$t") s"
t=$(now_ms)
dc 300 build >"$logdir/build.log" 2>&1 || { cat "$logdir/build.log"; fail "compose build"; }
say "image built in $(secs "$t") s: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' fedist:local)"

# --- up ----------------------------------------------------------------------------------------
t=$(now_ms)
started=1
say "compose up -d"
dc 120 up -d >"$logdir/up.log" 2>&1 || { cat "$logdir/up.log"; fail "compose up"; }
for s in "${services[@]}"; do
  wait_until "$UP_TIMEOUT" "$t" "$s (${id[$s]}) /healthz 200 on 127.0.0.1:${http[$s]}" healthz "$s"
done

# --- registry ----------------------------------------------------------------------------------
reg=$(registry) || fail "GET /registry on a1 (127.0.0.1:${http[a1]})"
say "a1's registry: $(jq -r '[.[] | "\(.id)=\(.status)"] | join(" ")' <<<"$reg")"
for s in "${services[@]}"; do
  got=$(jq -r --arg id "${id[$s]}" '.[] | select(.id == $id) | "\(.status) \(.parent)"' <<<"$reg")
  [[ $got == "active ${parent[$s]}" ]] ||
    fail "region ${id[$s]} ($s): want status active with parent '${parent[$s]}', got '$got'"
done
n=$(jq length <<<"$reg")
((n == 4)) || fail "a1's registry has $n regions, want 4"
say "all four regions active with the right parents"

# --- client port: TLS and a configured user ----------------------------------------------------
# The stock nats CLI, where installed: a1's client port takes TLS and the demo user, and refuses a
# client without credentials.
if command -v nats >/dev/null; then
  ca=$top/deploy/build/certs/ca.crt
  tls=(--server "tls://127.0.0.1:${client[a1]}" --tlsca "$ca" --inbox-prefix _INBOX.00a1 --timeout 5s)
  got=$(timeout 20 nats "${tls[@]}" --user demo --password demo kv get fedist-registry region.00b0 --raw 2>&1) ||
    fail "nats kv get over TLS as demo: $got"
  jq -e '.status == "active"' <<<"$got" >/dev/null || fail "nats kv get over TLS: $got"
  if out=$(timeout 20 nats "${tls[@]}" kv get fedist-registry region.00b0 --raw 2>&1); then
    fail "a client without credentials read the registry over TLS: $out"
  fi
  grep -qi "authorization" <<<"$out" || fail "a client without credentials: want an authorization error, got: $out"
  say "client port: TLS with the demo user works; no credentials is refused ($(head -c 80 <<<"$out"))"
else
  say "nats CLI not on PATH: client-port TLS check skipped"
fi

# --- down and back -----------------------------------------------------------------------------
check_bounce stop
check_bounce kill
say "a1's registry: $(summary)"
