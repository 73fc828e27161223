#!/usr/bin/env bash
# Starts a private PostgreSQL server on loopback for the tests (its own data folder and port, so
# it touches no other cluster), creates the test database, and prints the URL the tests read
# from ZPR_TEST_POSTGRES_URL. `scripts/test-postgres.sh stop` stops it and removes its folder.
# Needs the Debian postgresql package (scripts/install-deps.sh installs it) and root, to run the
# server as the postgres user.
set -euo pipefail

port="${ZPR_TEST_POSTGRES_PORT:-54329}"
folder="${ZPR_TEST_POSTGRES_DIR:-/tmp/zpr-test-postgres}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"

if [ -z "$bin" ]; then
  echo "test-postgres: no PostgreSQL found; run scripts/install-deps.sh" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-postgres: run as root (the server runs as the postgres user)" >&2
  exit 1
fi

as_postgres() { su postgres -s /bin/sh -c "$*"; }

if [ "${1:-start}" = "stop" ]; then
  if [ -d "$folder/data" ]; then as_postgres "$bin/pg_ctl -D $folder/data -m fast stop" || true; fi
  rm -rf "$folder"
  exit 0
fi

if ! as_postgres "$bin/pg_isready -h 127.0.0.1 -p $port" >/dev/null 2>&1; then
  rm -rf "$folder"
  mkdir -p "$folder"
  chown postgres "$folder"
  as_postgres "$bin/initdb -D $folder/data -A trust -U postgres" >/dev/null
  as_postgres "$bin/pg_ctl -D $folder/data -l $folder/log -w -o \"-p $port -k $folder -c listen_addresses=127.0.0.1 -c fsync=on\" start" >/dev/null
  as_postgres "$bin/psql -h 127.0.0.1 -p $port -U postgres -c 'CREATE DATABASE zpr_test'" >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$port/zpr_test"
