#!/bin/sh
# One-shot job of compose.yaml: create Temporal's two databases in the
# `postgres` service and bring their schemas up to date. Safe to run again:
# temporal-sql-tool skips a database that exists, `setup-schema -v 0.0` only
# creates missing version tables, and `update-schema` applies only the schema
# versions a database lacks. Any other error stops the job, with its message.
set -eu

schemas=/etc/temporal/schema/postgresql/v12

sql_tool() {
    # The password comes from SQL_PASSWORD in the environment.
    temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
    database=${pair%%:*}
    schema=${pair##*:}
    sql_tool --db "$database" create-database
    sql_tool --db "$database" setup-schema -v 0.0
    sql_tool --db "$database" update-schema -d "$schemas/$schema/versioned"
    echo "Database $database is up to date"
done
