#!/bin/sh
# One-shot job of compose.yaml: create the project's namespace on the Temporal
# server (the CLI reads TEMPORAL_ADDRESS){% if cookiecutter.example_workflows %}, and register the search attributes
# of temporal_app/search_attributes.py in it{% endif %}. Nothing changes what exists.
#
# A port that accepts is not a server that serves: the job first waits for
# the cluster to report healthy, for WAIT_SECONDS at most, then gives up
# with a message (and the worker, which waits for this job, does not start).
set -eu

wait_seconds=${WAIT_SECONDS:-120}
waited=0
until temporal operator cluster health >/dev/null 2>&1; do
    if [ "$waited" -ge "$wait_seconds" ]; then
        echo "Temporal at $TEMPORAL_ADDRESS is not healthy after ${wait_seconds}s:" >&2
        temporal operator cluster health >&2 || true
        exit 1
    fi
    sleep 2
    waited=$((waited + 2))
done

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "Namespace $NAMESPACE exists"
else
    temporal operator namespace create --namespace "$NAMESPACE" --retention 72h
    echo "Created namespace $NAMESPACE"
fi
{%- if cookiecutter.example_workflows %}

# A new namespace reaches every part of the server a few seconds after it is
# created ("Namespace ... is not found" until then): retry each registration
# for WAIT_SECONDS at most. Registering an attribute again with the same type
# succeeds. One attribute per command: the CLI takes a single --type.
register() {
    waited=0
    until temporal operator search-attribute create --namespace "$NAMESPACE" \
        --name "$1" --type "$2" >/dev/null 2>&1; do
        if [ "$waited" -ge "$wait_seconds" ]; then
            echo "Could not register the search attribute $1 ($2) after ${wait_seconds}s:" >&2
            temporal operator search-attribute create --namespace "$NAMESPACE" \
                --name "$1" --type "$2" >&2 || true
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}
register UserId Int
register BatchId Keyword
echo "Registered the search attributes UserId (Int) and BatchId (Keyword)"
{%- endif %}
