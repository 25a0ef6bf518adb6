#!/bin/sh
# One-shot job of compose.yaml: create the project's namespace on the Temporal
# server (the CLI reads TEMPORAL_ADDRESS), and register the search attributes
# of temporal_app/search_attributes.py in it. Nothing changes what exists.
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

# One type per command: the CLI takes several --name but a single --type.
# Registering an attribute again with the same type succeeds.
temporal operator search-attribute create --namespace "$NAMESPACE" --name UserId --type Int
temporal operator search-attribute create --namespace "$NAMESPACE" --name BatchId --type Keyword
echo "Registered the search attributes UserId (Int) and BatchId (Keyword)"
