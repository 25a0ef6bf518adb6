"""The custom search attributes that the project's workflows carry, defined
once: the starters set them (temporal_app.starters), the admin lists a
user's or a batch's workflows by them (temporal_app.visibility), and
continue-as-new carries them to the next run.

A server accepts a workflow with a custom search attribute only once the
attribute is registered in the namespace, with the same type. Every server
the project starts registers these: `make temporal`, compose.yaml's dev
server, docker/temporal/create-namespace.sh (the full server), and the test
servers (conftest.py, core/testing.py); a test keeps those lists equal to
this one. For Temporal Cloud or another cluster, see
docs/guides/temporal-cloud.md. A start on a server without them fails with
`SearchAttributeMissing`, which says how to register them.

Their values are stored unencrypted by the server (a payload codec does not
apply to them): ids, never names or email addresses.
"""

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from .core.client import TemporalUnavailable

# The user whose workflow it is (user_onboarding).
USER_ID = SearchAttributeKey.for_int("UserId")
# The batch a run belongs to, across its continued-as-new runs (batch_processing).
BATCH_ID = SearchAttributeKey.for_keyword("BatchId")

SEARCH_ATTRIBUTES = (USER_ID, BATCH_ID)

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


def dev_server_args() -> list[str]:
    """Return the `temporal server start-dev` options that register them."""
    return [
        f"--search-attribute={key.name}={cli_type(key)}" for key in SEARCH_ATTRIBUTES
    ]


class SearchAttributeMissing(TemporalUnavailable):
    """The server does not know a search attribute that a workflow carries:
    it is not registered in the namespace (a deployment step, not a bug).
    Callers handle it as Temporal being unavailable: the start is made
    again later (by the reconcile schedule, for onboarding)."""


def missing_attribute_error(
    error: RPCError, namespace: str
) -> SearchAttributeMissing | None:
    """Return a SearchAttributeMissing naming the attribute and how to
    register it, when `error` is a server's refusal of an unregistered
    search attribute; None for any other error."""
    if error.status != RPCStatusCode.INVALID_ARGUMENT:
        return None
    if "search attribute" not in error.message.lower():
        return None
    named = [key for key in SEARCH_ATTRIBUTES if key.name in error.message]
    missing = ", ".join(
        f"{key.name} ({cli_type(key)})" for key in named or SEARCH_ATTRIBUTES
    )
    commands = "; ".join(
        f"temporal operator search-attribute create --namespace {namespace} "
        f"--name {key.name} --type {cli_type(key)}"
        for key in named or SEARCH_ATTRIBUTES
    )
    return SearchAttributeMissing(
        f"Temporal's namespace {namespace!r} has no search attribute "
        f"{missing}: register it ({commands}; on Temporal Cloud, "
        f"tcld namespace search-attributes add or the Cloud UI). "
        f"The server said: {error.message}"
    )
