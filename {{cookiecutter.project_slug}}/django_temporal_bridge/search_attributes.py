"""Custom search attributes: how the Temporal CLI names their types, and the
error a server gives for one that its namespace does not know.

A server accepts a workflow with a custom search attribute only once the
attribute is registered in the namespace, with the same type. Their values
are stored unencrypted (a payload codec does not apply to them): ids, never
names or email addresses.
"""

from collections.abc import Sequence

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from .client import TemporalUnavailable

# The type names of the Temporal CLI (`--search-attribute UserId=Int`).
CLI_TYPES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


def cli_type(key: SearchAttributeKey) -> str:
    """Return the key's type as the Temporal CLI spells it ("Int")."""
    return CLI_TYPES[key.indexed_value_type]


def dev_server_args(keys: Sequence[SearchAttributeKey]) -> list[str]:
    """Return the `temporal server start-dev` options that register `keys`."""
    return [f"--search-attribute={key.name}={cli_type(key)}" for key in keys]


class SearchAttributeMissing(TemporalUnavailable):
    """The server does not know a search attribute that a workflow carries:
    it is not registered in the namespace (a deployment step, not a bug).
    Callers handle it as Temporal being unavailable: the start is made
    again later."""


def missing_attribute_error(
    error: RPCError, namespace: str, keys: Sequence[SearchAttributeKey]
) -> SearchAttributeMissing | None:
    """Return a SearchAttributeMissing naming the attribute of `keys` and how
    to register it, when `error` is a server's refusal of an unregistered
    search attribute; None for any other error."""
    if error.status != RPCStatusCode.INVALID_ARGUMENT:
        return None
    if "search attribute" not in error.message.lower():
        return None
    named = [key for key in keys if key.name in error.message] or list(keys)
    missing = ", ".join(f"{key.name} ({cli_type(key)})" for key in named)
    commands = "; ".join(
        f"temporal operator search-attribute create --namespace {namespace} "
        f"--name {key.name} --type {cli_type(key)}"
        for key in named
    )
    return SearchAttributeMissing(
        f"Temporal's namespace {namespace!r} has no search attribute "
        f"{missing}: register it ({commands}; on Temporal Cloud, "
        f"tcld namespace search-attributes add or the Cloud UI). "
        f"The server said: {error.message}"
    )
