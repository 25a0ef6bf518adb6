#!/bin/sh
# One-shot job of compose.yaml: create Temporal's two databases in the
# `postgres` service and bring their schemas up to date. Running it again
# keeps existing databases and only applies schema versions they lack.
set -eu

schemas=/etc/temporal/schema/postgresql/v12

sql_tool() {
    # The password comes from SQL_PASSWORD in the environment.
    temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
    database=${pair%%:*}
    schema=${pair##*:}
    sql_tool --db "$database" create-database >/dev/null 2>&1 \
        && echo "Created database $database" || echo "Database $database exists"
    sql_tool --db "$database" setup-schema -v 0.0 >/dev/null 2>&1 \
        && echo "Set up schema of $database" || echo "Schema of $database exists"
    sql_tool --db "$database" update-schema -d "$schemas/$schema/versioned"
done
