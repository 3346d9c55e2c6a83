#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and local experiments, in a folder of its own, listening on a free TCP port of
# 127.0.0.1 and on a Unix socket in that folder. The server refuses to run as root, so under root it runs as the
# `postgres` user. PostgreSQL is installed with apt-get when it is missing.
#
#   scripts/postgres_server.sh start DIR     # (DIR new, its parents open to the postgres user) prints the connection URL (postgresql://dopant@127.0.0.1:PORT/dopant)
#   scripts/postgres_server.sh stop DIR      # stops the server and deletes DIR
#   scripts/postgres_server.sh restart DIR   # stops and starts the same cluster on the same port
#
# The role `dopant` has the password `dopant` (scram-sha-256 over TCP); the URL carries no password: give it in
# PGPASSWORD or a ~/.pgpass-style file.
set -euo pipefail

command=${1:?usage: postgres_server.sh start|stop|restart DIR}
dir=${2:?usage: postgres_server.sh start|stop|restart DIR}

bin=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && bin=$candidate
done
if [ -z "$bin" ] && [ "$command" = start ]; then
  echo "installing PostgreSQL with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && bin=$candidate
  done
fi

# The server outlives this script, so it must not inherit the caller's open files beyond 0-2: a lock the caller holds
# (flock around a test run that restarts the server) would stay held for the server's life. 255 is bash's script.
close_inherited_files() {
  local fd
  for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-"; fi
  done
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$command" in
  start|restart) close_inherited_files ;;
esac

case "$command" in
  start)
    [ -n "$bin" ] || { echo "no PostgreSQL server binaries (initdb) found" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo dopant > "$dir/password"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres "$dir/password"
      runuser -u postgres -- test -r "$dir/password" \
        || { echo "the postgres user cannot reach $dir: choose a folder whose parents it may enter (e.g. under /tmp)" >&2; exit 1; }
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U dopant --pwfile="$dir/password" --auth=scram-sha-256 -E UTF8 --no-locale > "$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" > "$dir/port"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start > /dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    PGPASSWORD=dopant "$bin/psql" -q -h 127.0.0.1 -p "$port" -U dopant -d postgres -c "CREATE DATABASE dopant" > /dev/null
    echo "postgresql://dopant@127.0.0.1:$port/dopant"
    ;;
  stop)
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop > /dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  restart)
    port=$(cat "$dir/port")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start > /dev/null
    ;;
  *)
    echo "usage: postgres_server.sh start|stop|restart DIR" >&2
    exit 1
    ;;
esac
