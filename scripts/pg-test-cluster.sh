#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the PostgreSQL backend: Unix socket only (no TCP
# port), trust authentication, in DIR, which it owns; about two seconds to start here.
#   scripts/pg-test-cluster.sh start DIR   initdb + pg_ctl start; the socket is in DIR
#   scripts/pg-test-cluster.sh stop DIR    immediate stop, then DIR is removed
#   scripts/pg-test-cluster.sh crash DIR   immediate stop (as a crashed server), DIR kept
#   scripts/pg-test-cluster.sh resume DIR  starts a crashed cluster again (crash recovery)
# PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user.
# fsync is off: the tests kill processes, not machines, and a killed server keeps what it wrote
# in the page cache. PGBIN overrides where initdb and pg_ctl are looked for.
set -euo pipefail

action=${1:-}
dir=${2:-}
if [[ -z "$action" || -z "$dir" ]]; then
  echo "usage: $0 start|stop|crash|resume DIR" >&2
  exit 2
fi

bindir=${PGBIN:-}
if [[ -z "$bindir" ]]; then
  for candidate in /usr/lib/postgresql/*/bin; do
    [[ -x "$candidate/initdb" ]] && bindir=$candidate
  done
fi
if [[ -z "$bindir" || ! -x "$bindir/pg_ctl" ]]; then
  echo "pg-test-cluster: no PostgreSQL server binaries (initdb, pg_ctl) found; install" \
       "postgresql-15 (scripts/install-deps.sh does) or set PGBIN" >&2
  exit 1
fi

as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  as_owner=(runuser -u postgres --)
fi

server_start() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off \
        -c max_connections=300 -c shared_buffers=64MB" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
}

case "$action" in
  start)
    if [[ -S "$dir/.s.PGSQL.5432" ]] && "$bindir/pg_isready" -q -h "$dir"; then
      exit 0  # already running (a previous run's cluster that was not stopped)
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 700 "$dir"
    [[ ${#as_owner[@]} -gt 0 ]] && chown postgres "$dir"
    "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" --auth=trust --username=postgres \
      --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    server_start
    ;;
  crash)
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  resume)
    server_start
    ;;
  stop)
    if [[ -d "$dir/data" ]]; then
      "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop|crash|resume DIR" >&2
    exit 2
    ;;
esac
