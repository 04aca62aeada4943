#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the test suite, installing the
# Debian package when it is missing. Prints the server URL on its last line.
# Usage: scripts/ensure-postgres.sh [PORT]   (default 54329)
set -euo pipefail
port="${1:-54329}"
bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && bindir="$candidate"
done
if [ -z "$bindir" ]; then
  echo "PostgreSQL not found: installing the Debian package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && bindir="$candidate"
  done
fi
[ -n "$bindir" ] || { echo "could not install PostgreSQL" >&2; exit 1; }
datadir="/tmp/shieldwall-test-pg-$port"
run_as_postgres() {
  if [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}
if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
  if [ ! -f "$datadir/PG_VERSION" ]; then
    rm -rf "$datadir"
    mkdir -p "$datadir"
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$datadir"
    run_as_postgres "'$bindir/initdb' -D '$datadir' -A trust -U postgres -E UTF8 >/dev/null"
  fi
  run_as_postgres "'$bindir/pg_ctl' -D '$datadir' -l '$datadir/server.log' -w -t 60 \
    -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start >/dev/null"
fi
echo "postgresql://postgres@127.0.0.1:$port/postgres"
