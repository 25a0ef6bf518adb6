#!/bin/sh
# Entrypoint of the postgres stand-in, written for this repository to the
# documented behaviour of the official image (see the Dockerfile beside it).
set -eu

# As root: own the data and socket directories, then run as postgres.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

# First start on an empty volume: create the cluster, its user and database.
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?is required: set POSTGRES_PASSWORD}"
    user=${POSTGRES_USER:-postgres}
    database=${POSTGRES_DB:-$user}
    password_file=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
    initdb --username="$user" --pwfile="$password_file" -D "$PGDATA" >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

    # The init-time server: Unix socket only, TCP closed. This is the window
    # in which `pg_isready` without -h succeeds and clients on TCP are refused.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    export PGUSER="$user" PGDATABASE=postgres
    if [ "$database" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$database\""
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
        *.sql) psql -v ON_ERROR_STOP=1 -q -d "$database" -f "$script" ;;
        *.sh) if [ -x "$script" ]; then "$script"; else . "$script"; fi ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
