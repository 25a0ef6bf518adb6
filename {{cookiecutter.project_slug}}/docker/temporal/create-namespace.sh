#!/bin/sh
# One-shot job of compose.yaml: create the project's namespace on the Temporal
# server (the CLI reads TEMPORAL_ADDRESS). Nothing happens if it exists.
set -eu

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "Namespace $NAMESPACE exists"
else
    temporal operator namespace create --namespace "$NAMESPACE" --retention 72h
fi
