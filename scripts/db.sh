#!/usr/bin/env bash
# The embedded development cluster: start | stop | status | psql.
# Data lives in .pg/ inside the project; the server listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=${PHOTO_AI_PGPORT:-55432}
ROOT=${PHOTO_AI_PGDATA:-$PWD/.pg}
DATA="$ROOT/data"
SOCKETS="$ROOT/run"
LOG="$ROOT/server.log"
DBNAME=photo_ai

# PostgreSQL refuses to run as root: the server belongs to the postgres OS user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

is_running() { as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

init_cluster() {
  echo "==> initialising a cluster in $DATA"
  mkdir -p "$ROOT" "$SOCKETS"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$ROOT" "$SOCKETS"
  as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  cat > "$DATA/pg_hba.conf" <<HBA
# Only the postgres superuser is trusted, and only on loopback; other roles need a password.
local all postgres                trust
host  all postgres 127.0.0.1/32   trust
host  all all      127.0.0.1/32   scram-sha-256
HBA
  cat >> "$DATA/postgresql.conf" <<CONF
# photo_ai development cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKETS'
shared_preload_libraries = 'pg_cron'
cron.database_name = '$DBNAME'
max_connections = 100
shared_buffers = 256MB
maintenance_work_mem = 512MB
logging_collector = off
CONF
}

# A pid file left by a crash stops pg_ctl only when its pid now belongs to another process.
clear_stale_pid() {
  local pidfile="$DATA/postmaster.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(head -n1 "$pidfile")
  if ! kill -0 "$pid" 2>/dev/null || ! grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
    echo "==> removing stale pid file (pid $pid is not a running postgres)"
    rm -f "$pidfile"
  fi
}

create_database() {
  local exists
  exists=$(psql_cmd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")
  [ "$exists" = 1 ] || psql_cmd -d postgres -qc "CREATE DATABASE $DBNAME"
}

psql_cmd() { psql -h 127.0.0.1 -p "$PORT" -U postgres -X -v ON_ERROR_STOP=1 "$@"; }

start() {
  [ -f "$DATA/PG_VERSION" ] || init_cluster
  if is_running; then echo "==> cluster already running on 127.0.0.1:$PORT"; return; fi
  clear_stale_pid
  if port_taken; then
    echo "error: port $PORT on 127.0.0.1 is already in use by another program." >&2
    echo "       Set PHOTO_AI_PGPORT to a free port, e.g. PHOTO_AI_PGPORT=55433 make db-start" >&2
    exit 1
  fi
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 60 start >/dev/null \
    || { echo "error: the cluster did not start; see $LOG" >&2; tail -n 20 "$LOG" >&2; exit 1; }
  create_database
  echo "==> cluster running on 127.0.0.1:$PORT, database $DBNAME"
}

stop() {
  if ! is_running; then echo "==> cluster not running"; return; fi
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  echo "==> cluster stopped"
}

status() {
  if is_running; then
    # the port it really listens on (line 4 of the pid file), whatever this shell says
    echo "running: 127.0.0.1:$(sed -n 4p "$DATA/postmaster.pid") data=$DATA"
  else
    echo "stopped: data=$DATA"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  psql) shift; psql_cmd -d "$DBNAME" "$@" ;;
  *) echo "usage: $0 start|stop|status|psql" >&2; exit 2 ;;
esac
