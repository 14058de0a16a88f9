#!/usr/bin/env bash
# A real OAR 2.5.9 (Debian 12 packages) on this machine, wired to kaploy's hooks, for the slow tests
# and the demo. Idempotent: run it as often as you like.
#
#   scripts/setup-oar.sh [setup]        install, configure and start PostgreSQL, OAR's sshd, oar-server
#   scripts/setup-oar.sh nodes NODEFILE register the node file's hosts as deploy=YES resources
#                                       (lines "NAME [ADDRESS [CLUSTER]]"; an address goes to
#                                       /etc/hosts, "-" for none; CLUSTER is the resource's `cluster`
#                                       property, by default the name's first label without its
#                                       "-N" suffix: gdx-12.orsay is in cluster gdx)
#   scripts/setup-oar.sh reset          setup, on an empty OAR database: no job, no resource, and
#                                       kaploy's OAR spools emptied (tests and benches start here)
#   scripts/setup-oar.sh stop           stop oar-server, OAR's sshd and PostgreSQL
#   scripts/setup-oar.sh status         one line per daemon
#
# Quiet: details go to $KAPLOY_OAR_SETUP_LOG (default /var/log/kaploy-setup-oar.log); on error the
# log's tail is printed and the script exits non-zero. Facts it relies on:
# docs/oar.md (OAR 2.5.9 behaviour as observed on Debian 12's packages).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
LOG=${KAPLOY_OAR_SETUP_LOG:-/var/log/kaploy-setup-oar.log}
CONF=/etc/oar/oar.conf
PG_VERSION=15
OAR_SERVER_PID=/var/run/oar-server.pid
OAR_SSHD_PID=/run/oar-node_sshd.pid
# Daemons are started with a clean environment: OAR passes its own environment to the hooks, and
# ours (tokens, test variables) must not leak into them.
CLEAN_PATH=/usr/sbin:/usr/bin:/sbin:/bin
USERS=(alice bob)
PKGS=(oar-server oar-server-pgsql oar-user oar-user-pgsql oar-node postgresql)

log() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOG"; }
say() { printf 'setup-oar: %s\n' "$*"; log "$*"; }
fail() {
  printf 'setup-oar: FAILED: %s\n--- last lines of %s ---\n' "$*" "$LOG" >&2
  tail -n 25 "$LOG" >&2 || true
  exit 1
}
run() { log "+ $*"; "$@" >>"$LOG" 2>&1; }
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

need_root() { [ "$(id -u)" -eq 0 ] || { echo "setup-oar: must run as root" >&2; exit 1; }; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = 'install ok installed' ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the install fails without it (stale or empty package lists).
  if ! run apt-get install -y -q "${missing[@]}"; then
    run apt-get update -q
    run apt-get install -y -q "${missing[@]}"
  fi
}

start_postgres() {
  local clusters
  clusters=$(pg_lsclusters -h 2>/dev/null || true)
  if ! grep -q "^$PG_VERSION main" <<<"$clusters"; then
    run pg_createcluster "$PG_VERSION" main
  fi
  if ! grep -q "^$PG_VERSION main .* online" <<<"$(pg_lsclusters -h)"; then
    run pg_ctlcluster "$PG_VERSION" main start
  fi
  local i
  for i in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 && return 0
    sleep 0.5
  done
  fail "PostgreSQL did not answer on 127.0.0.1 within 30 s"
}

# conf_get KEY: the value of KEY in oar.conf (quotes removed), empty when unset or commented.
conf_get() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\s*$/\1/p" "$CONF" | tail -n 1; }

# conf_unset KEY: comments KEY out (OAR tests is_conf, so a commented key is unset).
conf_unset() { sed -i -E "s|^($1=.*)|#\1|" "$CONF"; }

# conf_set KEY VALUE: sets KEY (uncommenting it if needed), appends it when absent.
conf_set() {
  local key=$1 value=$2
  if grep -qE "^#?\s*$key=" "$CONF"; then
    sed -i -E "s|^#?\s*$key=.*|$key=\"$value\"|" "$CONF"
  else
    printf '%s="%s"\n' "$key" "$value" >>"$CONF"
  fi
}

random_secret() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

configure_oar() {
  local before
  before=$(md5sum "$CONF" | cut -d' ' -f1)
  # Debian ships empty DB passwords, which oar-database refuses; keep ours once set.
  [ -n "$(conf_get DB_BASE_PASSWD)" ] || conf_set DB_BASE_PASSWD "$(random_secret)"
  [ -n "$(conf_get DB_BASE_PASSWD_RO)" ] || conf_set DB_BASE_PASSWD_RO "$(random_secret)"
  conf_set DB_HOSTNAME localhost
  conf_set SERVER_HOSTNAME localhost
  # Deploy jobs run their shell on DEPLOY_HOSTNAME (the frontend), reached through OAR's sshd.
  conf_set DEPLOY_HOSTNAME localhost
  conf_set SERVER_PROLOGUE_EXEC_FILE "$REPO/hooks/server_prologue"
  conf_set SERVER_EPILOGUE_EXEC_FILE "$REPO/hooks/server_epilogue"
  # The hooks' internal deadline (oar-hooks.yaml deadline, default 45 s) stays below this.
  conf_set SERVER_PROLOGUE_EPILOGUE_TIMEOUT 60
  # The packaged checker (sentinelle over ssh port 6667) would mark loopback nodes Suspected; OAR
  # tries TAKTUK, SENTINELLE, FPING, NMAP then GENERIC (OAR/PingChecker.pm), so unset the others.
  conf_unset PINGCHECKER_TAKTUK_ARG_COMMAND
  conf_unset PINGCHECKER_SENTINELLE_SCRIPT_COMMAND
  conf_unset PINGCHECKER_FPING_COMMAND
  conf_unset PINGCHECKER_NMAP_COMMAND
  conf_set PINGCHECKER_GENERIC_COMMAND "$REPO/scripts/oar-pingchecker.sh"
  conf_set FINAUD_FREQUENCY 300
  [ "$before" = "$(md5sum "$CONF" | cut -d' ' -f1)" ] && return 1
  return 0
}

create_database() {
  if run oar-database --check; then return 0; fi
  say "creating the OAR database"
  run oar-database --create --db-is-local -y
  run oar-database --check
}

start_oar_sshd() {
  alive "$OAR_SSHD_PID" && return 0
  mkdir -p /run/sshd
  run env -i PATH=$CLEAN_PATH /usr/sbin/sshd -f /etc/oar/sshd_config -o PidFile=$OAR_SSHD_PID -o ListenAddress=127.0.0.1
}

stop_oar_server() {
  alive "$OAR_SERVER_PID" || return 0
  local pid
  pid=$(cat "$OAR_SERVER_PID")
  log "stopping oar-server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  rm -f "$OAR_SERVER_PID"
}

start_oar_server() {
  alive "$OAR_SERVER_PID" && return 0
  run env -i PATH=$CLEAN_PATH /etc/init.d/oar-server start
  local i
  for i in $(seq 1 50); do
    alive "$OAR_SERVER_PID" && return 0
    sleep 0.2
  done
  fail "oar-server did not start (see /var/log/oar.log)"
}

create_users() {
  local u
  for u in "${USERS[@]}"; do
    id -u "$u" >/dev/null 2>&1 || run useradd -m -s /bin/bash "$u"
  done
}

# A restore that fails holds its node Absent with the reason in this property (OAR 2.5.9's
# oarnodesetting has no Suspected state and no comment field); `oarnodes NODE` shows it.
add_reason_property() {
  # Output captured first: with pipefail, grep -q closing the pipe early fails the pipeline (SIGPIPE).
  local props
  props=$(oarproperty -l 2>>"$LOG" || true)
  grep -qx kaploy_reason <<<"$props" || run oarproperty -a kaploy_reason -c
  # The tutorial asks `oarsub -l cluster=1/nodes=2` and oargridsub picks each alias's nodes by
  # cluster: OAR's default schema has no such column (Grid'5000 adds it), so add it.
  grep -qx cluster <<<"$props" || run oarproperty -a cluster -c
}

# The hooks run as oar and spool undelivered restore requests here (docs/oar.md).
create_spool() {
  install -d -o oar -g oar -m 700 /var/lib/kaploy/oar-spool
  install -d -m 755 /etc/kaploy
}

check_hooks_reachable() {
  # OAR runs the hooks as user oar: every directory up to them and the built code must be readable.
  su -s /bin/sh oar -c "test -x '$REPO/hooks/server_prologue' && test -r '$REPO/dist/hook/hook-main.js'" \
    || say "warning: user oar cannot run $REPO/hooks/server_prologue or read $REPO/dist (run npm run build)"
}

cmd_setup() {
  need_root
  local t0=$SECONDS changed=0
  : >>"$LOG"
  install_packages
  start_postgres
  if configure_oar; then changed=1; fi
  create_database
  start_oar_sshd
  # oar-server reads oar.conf at start: restart it when we changed the file.
  if [ $changed -eq 1 ]; then stop_oar_server; fi
  start_oar_server
  create_users
  add_reason_property
  create_spool
  # Queues may have been stopped by an earlier failed hook; a fresh setup starts with all active.
  run oarnotify -E
  check_hooks_reachable
  say "OAR ready in $((SECONDS - t0)) s (log: $LOG)"
}

# A clean slate for the tests and benches: this machine's OAR is theirs, and a run that was killed
# (a session ending mid-test) leaves jobs holding nodes, resources of other sites and spooled
# restore requests that would make the next run wait for nodes forever.
cmd_reset() {
  need_root
  : >>"$LOG"
  install_packages
  start_postgres
  stop_oar_server
  if run oar-database --check; then
    say "dropping the OAR database (jobs, resources and properties of earlier runs)"
    run oar-database --drop --db-is-local -y
  fi
  local d
  for d in /var/lib/kaploy/oar-spool*; do
    [ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -name '*.json' -delete
  done
  cmd_setup
}

cmd_nodes() {
  need_root
  local file=${1:-}
  [ -n "$file" ] && [ -r "$file" ] || { echo "usage: setup-oar.sh nodes NODEFILE (readable file)" >&2; exit 3; }
  local known name addr cluster rest n=0 props
  # oarnodesetting exits 0 when a property column is missing, and then sets none of the call's
  # properties (not even deploy=YES): the columns must exist first (cmd_setup adds them).
  props=$(oarproperty -l 2>>"$LOG" || true)
  grep -qx cluster <<<"$props" || fail "OAR has no cluster property: run scripts/setup-oar.sh first"
  known=$(oarnodes -l 2>>"$LOG" | awk '{print $1}' || true)
  while read -r name addr cluster rest; do
    case "$name" in ''|'#'*) continue ;; esac
    # Same rule as the hooks (src/formats/node-names.ts): nothing else reaches OAR or /etc/hosts.
    [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$ ]] || fail "invalid node name '$name' in $file"
    [ -z "$rest" ] || fail "unexpected '$rest' after the cluster of $name in $file (NAME [ADDRESS [CLUSTER]])"
    [ "$addr" = - ] && addr=
    if [ -z "$cluster" ]; then
      cluster=${name%%.*}
      [[ "$cluster" =~ -[0-9]+$ ]] && cluster=${cluster%-*}
    fi
    # A cluster name reaches OAR's SQL as a quoted value ('cluster=a'): letters, digits, - and _ only.
    [[ "$cluster" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$ ]] || fail "invalid cluster name '$cluster' for $name in $file"
    if [ -n "$addr" ]; then
      [[ "$addr" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || fail "invalid loopback address '$addr' for $name in $file"
      if ! grep -qE "^$addr\s+$name(\s|$)" /etc/hosts; then
        sed -i -E "/\s$name(\s|$)/d" /etc/hosts
        printf '%s %s\n' "$addr" "$name" >>/etc/hosts
      fi
    fi
    if grep -qxF "$name" <<<"$known"; then
      run oarnodesetting -h "$name" -p deploy=YES -p "cluster=$cluster"
    else
      run oarnodesetting -a -h "$name" -p deploy=YES -p "cluster=$cluster"
      known+=$'\n'"$name"
    fi
    n=$((n + 1))
  done < <(sort -u "$file")
  say "$n nodes registered (deploy=YES, with their cluster)"
}

cmd_stop() {
  need_root
  stop_oar_server
  if alive "$OAR_SSHD_PID"; then kill -TERM "$(cat "$OAR_SSHD_PID")" 2>/dev/null || true; rm -f "$OAR_SSHD_PID"; fi
  if grep -q "^$PG_VERSION main .* online" <<<"$(pg_lsclusters -h 2>/dev/null || true)"; then run pg_ctlcluster "$PG_VERSION" main stop; fi
  say "stopped"
}

cmd_status() {
  if alive "$OAR_SERVER_PID"; then echo "oar-server: running (pid $(cat $OAR_SERVER_PID))"; else echo "oar-server: stopped"; fi
  if alive "$OAR_SSHD_PID"; then echo "oar sshd: running (pid $(cat $OAR_SSHD_PID))"; else echo "oar sshd: stopped"; fi
  if pg_isready -q -h 127.0.0.1 2>/dev/null; then echo "postgresql: running"; else echo "postgresql: stopped"; fi
}

case "${1:-setup}" in
  setup) cmd_setup ;;
  reset) cmd_reset ;;
  nodes) shift; cmd_nodes "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: setup-oar.sh [setup|reset|nodes NODEFILE|stop|status]" >&2; exit 3 ;;
esac
