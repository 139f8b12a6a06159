# Shared by deploy/up.sh, deploy/down.sh and integration/compose/check.sh; source it, don't run it.
# It knows the compose federation (services, region IDs, parents, host ports), finds a Compose that
# works on this machine, and bounds every compose command in time.
#
# Reads:   FEDIST_PORT_PREFIX    host ports <prefix>42x2 (client) and <prefix>82x2 (http), 1 or 2; default 1
#          COMPOSE_PROJECT_NAME  compose project; default: Compose's own (the repository directory's name)
#          FEDIST_START_MS       the clock of say's timestamps starts here (ms since the epoch); default now
# Defines: top file compose services id parent http client prefix cid start_ms, and the functions below.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
file=$top/docker-compose.yml
export FEDIST_PORT_PREFIX=${FEDIST_PORT_PREFIX:-1}
prefix=$FEDIST_PORT_PREFIX

# The regions of the compose file, by service: region ID, parent, and host ports (http, client).
# The root region runs on three nodes: root, root2 and root3.
services=(root root2 root3 a a1 b)
declare -A id=([root]=0001 [root2]=0001 [root3]=0001 [a]=00a0 [a1]=00a1 [b]=00b0)
declare -A parent=([root]="" [root2]="" [root3]="" [a]=0001 [a1]=00a0 [b]=0001)
declare -A http=([root]=${prefix}8222 [root2]=${prefix}8262 [root3]=${prefix}8272 [a]=${prefix}8232 [a1]=${prefix}8242 [b]=${prefix}8252)
declare -A client=([root]=${prefix}4222 [root2]=${prefix}4262 [root3]=${prefix}4272 [a]=${prefix}4232 [a1]=${prefix}4242 [b]=${prefix}4252)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
start_ms=${FEDIST_START_MS:-$(now_ms)} # a calling script passes its own start on
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }
say() { printf '[%6ss] %s\n' "$(secs "$start_ms")" "$*"; }

# The script's own stdout and stderr. A trap handler can run inside a redirected command (see
# bounded), so it calls restore_stdio first to say what it says where the user sees it.
exec {stdout_fd}>&1 {stderr_fd}>&2
restore_stdio() { exec 1>&"$stdout_fd" 2>&"$stderr_fd"; }

# find_compose: sets compose to "docker compose" (v2) if it works, else docker-compose (v1).
find_compose() {
  if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
  elif command -v docker-compose >/dev/null; then
    compose=(docker-compose)
  else
    echo "neither 'docker compose' (v2) nor 'docker-compose' (v1) works; install one of them" >&2
    return 1
  fi
}

# bounded SECONDS CMD...: runs CMD and sends it SIGTERM after SECONDS (SIGKILL 10 s later). CMD runs
# in the background, so that a trapped signal (Ctrl-C) ends the wait at once instead of after CMD;
# the trap's handler then calls stop_child.
child=""
bounded() {
  local t=$1 rc=0
  shift
  timeout -k 10 "$t" "$@" &
  child=$!
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

# stop_child: ends the command bounded waits for, if any, and waits for it to exit (at most ~10 s).
stop_child() {
  [[ -n $child ]] || return 0
  kill -TERM "$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  child=""
}

# dc SECONDS ARGS...: one compose command on this project, ended after SECONDS.
dc() {
  local t=$1
  shift
  bounded "$t" "${compose[@]}" -f "$file" ${COMPOSE_PROJECT_NAME:+-p "$COMPOSE_PROJECT_NAME"} "$@"
}

# check_prefix: FEDIST_PORT_PREFIX is 1 or 2.
check_prefix() {
  [[ $prefix =~ ^[12]$ ]] && return
  echo "FEDIST_PORT_PREFIX=$prefix: want 1 or 2 (3 and up reach Linux's ephemeral port range)" >&2
  return 1
}

# busy_ports: prints the host ports of the federation that something already listens on.
busy_ports() {
  local s p
  for s in "${services[@]}"; do
    for p in "${http[$s]}" "${client[$s]}"; do
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "127.0.0.1:$p"; fi
    done
  done
}

# find_containers: sets cid[SERVICE] to the ID of the service's container, "" when it has none.
declare -A cid
find_containers() {
  local s c ids
  for s in "${services[@]}"; do cid[$s]=""; done
  ids=$(dc 30 ps -a -q 2>/dev/null) || return 0
  [[ -n $ids ]] || return 0
  while read -r s c; do
    [[ -z ${id[$s]:-} ]] || cid[$s]=$c
  done < <(timeout 10 docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Id}}' $ids 2>/dev/null)
}

# health SERVICE: the Docker health of the service's container (starting, healthy, unhealthy), or its
# state when it is not running (exited, restarting, ...), or "missing". Call find_containers first.
health() {
  [[ -n ${cid[$1]:-} ]] || { echo missing; return; }
  timeout 10 docker inspect -f '{{if eq .State.Status "running"}}{{if .State.Health}}{{.State.Health.Status}}{{else}}running{{end}}{{else}}{{.State.Status}}{{end}}' "${cid[$1]}" 2>/dev/null ||
    echo missing
}
