#!/usr/bin/env bash
# Checks the top-level docker-compose.yml end to end, on this machine's Docker engine:
#   1. starts it the way a newcomer does, with deploy/up.sh: static binaries and certificates
#      (deploy/build.sh), the FROM-scratch image built once, compose up, and a wait until Docker
#      reports every service healthy; then checks that all six containers (three root nodes, three
#      regions) run that one image and that every /healthz answers 200 on the host;
#   2. reads a1's registry (GET /registry) and checks all four regions are active, with the right
#      parents, and that each node's client URL is 127.0.0.1 with its published port and accepts a
#      TCP connection from the host;
#   3. with the nats CLI, where installed: reads the registry over TLS as the demo user through the
#      client URL a1's registry gives for a1, and is refused without credentials; and runs lookups:
#      a responder in b, requests from a1 across the tree;
#   4. stops b (SIGTERM) and checks a1 sees it down within DOWN_TIMEOUT, then starts it and checks it is
#      active again; then the same with SIGKILL;
#   5. kills (SIGKILL) the root node that is the elected registry writer, checks another root node
#      takes over, that b killed and restarted then is admitted again (a join through the new writer),
#      that lookups still work, and that the killed root node rejoins its cluster;
#   6. removes everything it made (compose down -v) on any exit, and prints PASS or FAIL.
# It only talks to its own compose project and to 127.0.0.1.
#
# Usage: integration/compose/check.sh    (needs docker, compose v2 or docker-compose, go, curl, jq)
# Env:   FEDIST_PORT_PREFIX    host ports <prefix>42x2 (client) and <prefix>82x2 (http), 1 or 2; default 1
#        COMPOSE_PROJECT_NAME  compose project; default fedist-check
#        UP_TIMEOUT DOWN_TIMEOUT BACK_TIMEOUT  seconds; defaults 60, 10, 30
set -euo pipefail

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-fedist-check}
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/compose-lib.sh"
project=$COMPOSE_PROJECT_NAME
export UP_TIMEOUT=${UP_TIMEOUT:-60}
DOWN_TIMEOUT=${DOWN_TIMEOUT:-10}
BACK_TIMEOUT=${BACK_TIMEOUT:-30}

fail() {
  restore_stdio
  say "FAIL: $*"
  exit 1
}

started=0
logdir=$(mktemp -d)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  restore_stdio
  stop_child
  if declare -F stop_responder >/dev/null; then stop_responder; fi
  if ((started)); then
    if ((rc != 0)); then
      say "last log lines of each container:"
      dc 30 logs --no-color --tail 25 2>&1 || true
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
find_compose || fail "no Compose"
check_prefix || fail "bad FEDIST_PORT_PREFIX"
[[ -z $(dc 30 ps -a -q 2>/dev/null) ]] ||
  fail "compose project $project already has containers; take it down or set COMPOSE_PROJECT_NAME"
busy=$(busy_ports)
[[ -z $busy ]] || fail "in use: $(paste -sd ' ' <<<"$busy"); set FEDIST_PORT_PREFIX=1 or 2 to use the other set of ports"
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

# --- up: the newcomer's one command ------------------------------------------------------------
t=$(now_ms)
started=1
say "deploy/up.sh"
FEDIST_START_MS=$start_ms bounded 900 "$top/deploy/up.sh" || fail "deploy/up.sh"
say "deploy/up.sh returned after $(secs "$t") s"

# One image, built once, runs everywhere.
find_containers
image=$(timeout 10 docker image inspect -f '{{.Id}}' fedist:local) || fail "no image fedist:local"
for s in "${services[@]}"; do
  [[ -n ${cid[$s]} ]] || fail "$s has no container"
  got=$(timeout 10 docker inspect -f '{{.Image}}' "${cid[$s]}") || fail "docker inspect $s"
  [[ $got == "$image" ]] || fail "$s runs image $got, want fedist:local ($image)"
done
say "all ${#services[@]} containers run fedist:local (${image:7:12})"
t=$(now_ms)
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

# Each region advertises 127.0.0.1 and its published client port (-advertise), so the client URLs in
# the registry work from the host.
for s in "${services[@]}"; do
  want=nats://127.0.0.1:${client[$s]}
  got=$(jq -r --arg id "${id[$s]}" '.[] | select(.id == $id) | .client_urls | join(" ")' <<<"$reg")
  [[ " $got " == *" $want "* ]] ||
    fail "region ${id[$s]} ($s): client URLs '$got' in a1's registry, want $want among them"
  hp=${want#nats://}
  (exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null || fail "region ${id[$s]} ($s): $got from a1's registry refuses a TCP connection"
done
say "client URLs in a1's registry: $(jq -r '[.[] | "\(.id)=\(.client_urls | join(","))"] | join(" ")' <<<"$reg"), each reachable from the host"
say "leaf URLs in a1's registry (nothing dials them; children use -parent): $(jq -r '[.[].leaf_urls[]] | unique | join(" ")' <<<"$reg")"

# --- client port: TLS and a configured user ----------------------------------------------------
# The stock nats CLI, where installed: a1's client port, found through a1's own registry entry, takes
# TLS and the demo user, and refuses a client without credentials.
if command -v nats >/dev/null; then
  ca=$top/deploy/build/certs/ca.crt
  url=$(jq -r --arg id "${id[a1]}" '.[] | select(.id == $id) | .client_urls[0]' <<<"$reg")
  tls=(--server "tls://${url#nats://}" --tlsca "$ca" --inbox-prefix "_INBOX.${id[a1]}" --timeout 5s)
  got=$(timeout 20 nats "${tls[@]}" --user demo --password demo kv get fedist-registry region.00b0 --raw 2>&1) ||
    fail "nats kv get over TLS as demo at $url: $got"
  jq -e '.status == "active"' <<<"$got" >/dev/null || fail "nats kv get over TLS: $got"
  if out=$(timeout 20 nats "${tls[@]}" kv get fedist-registry region.00b0 --raw 2>&1); then
    fail "a client without credentials read the registry over TLS: $out"
  fi
  grep -qi "authorization" <<<"$out" || fail "a client without credentials: want an authorization error, got: $out"
  say "client port at $url (from a1's registry): TLS with the demo user works; no credentials is refused ($(head -c 80 <<<"$out"))"
else
  say "nats CLI not on PATH: client-port TLS check skipped"
fi

# --- lookups across the tree --------------------------------------------------------------------
# A responder on b's client port, requests from a1's (demo user, TLS): a1 -> a -> root -> b.
responder=""
start_responder() {
  ((${#nats_tls_b[@]})) || return 0
  stop_responder
  timeout 600 nats "${nats_tls_b[@]}" --user demo --password demo reply 'fd.00b0.get.>' 'found' >"$logdir/reply.log" 2>&1 &
  responder=$!
}
stop_responder() { [[ -z $responder ]] || { kill "$responder" 2>/dev/null; wait "$responder" 2>/dev/null || true; responder=""; }; }
lookup_ok() {
  local out
  out=$(timeout 10 nats "${nats_tls_a1[@]}" --user demo --password demo request fd.00b0.get.user-1 '' --raw 2>&1) && [[ $out == found ]]
}
nats_tls_a1=() nats_tls_b=()
if command -v nats >/dev/null; then
  ca=$top/deploy/build/certs/ca.crt
  nats_tls_a1=(--server "tls://127.0.0.1:${client[a1]}" --tlsca "$ca" --inbox-prefix "_INBOX.${id[a1]}" --timeout 3s)
  nats_tls_b=(--server "tls://127.0.0.1:${client[b]}" --tlsca "$ca" --inbox-prefix "_INBOX.${id[b]}" --timeout 3s)
  start_responder
  t=$(now_ms)
  wait_until "$UP_TIMEOUT" "$t" "a lookup from a1 answered by b's responder" lookup_ok
else
  say "nats CLI not on PATH: lookup checks skipped"
fi

# --- down and back -----------------------------------------------------------------------------
check_bounce stop
check_bounce kill
say "a1's registry: $(summary)"

# --- losing the root's registry writer ----------------------------------------------------------
writer_of() { curl -fsS -m 2 "http://127.0.0.1:${http[$1]}/api/status" 2>/dev/null | jq -e '.registry_writer' >/dev/null 2>&1; }
writer=""
t=$(now_ms)
find_writer() {
  writer=""
  for s in root root2 root3; do
    [[ $s == "${1:-}" ]] && continue
    if writer_of "$s"; then writer=$s; return 0; fi
  done
  return 1
}
wait_until "$UP_TIMEOUT" "$t" "a root node reports itself the registry writer" find_writer
killed=$writer
say "registry writer: $killed; docker kill"
t=$(now_ms)
dc 60 kill "$killed" >"$logdir/kill-root.log" 2>&1 || { cat "$logdir/kill-root.log"; fail "compose kill $killed"; }
wait_until "$BACK_TIMEOUT" "$t" "another root node took over as writer" find_writer "$killed"
say "new registry writer: $writer"
for s in root a a1 b; do is_status "$s" active || fail "$s is not active after the root lost $killed: $(summary)"; done
check_bounce kill # b is admitted again by the new writer
if ((${#nats_tls_b[@]})); then
  start_responder # its connection to b went with b
  t=$(now_ms)
  wait_until "$BACK_TIMEOUT" "$t" "lookups from a1 to b answered again" lookup_ok
fi
say "$killed: compose start"
t=$(now_ms)
dc 60 start "$killed" >"$logdir/start-root.log" 2>&1 || { cat "$logdir/start-root.log"; fail "compose start $killed"; }
wait_until "$BACK_TIMEOUT" "$t" "$killed's /healthz answers 200 again" healthz "$killed"
all_active() { for s in root a a1 b; do is_status "$s" active || return 1; done; }
# The returning root node must not disturb anyone's status: checked for a few seconds.
for _ in $(seq 15); do
  all_active || fail "a region is not active after $killed returned: $(summary)"
  sleep 0.2
done
stop_responder
say "a1's registry: $(summary)"
