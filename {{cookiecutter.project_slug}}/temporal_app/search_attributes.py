"""The example workflows' custom search attributes (docs: the Temporal Cloud
guide). Stored unencrypted: ids only, never personal data."""

from temporalio.common import SearchAttributeKey

# The user whose workflow it is (user_onboarding).
USER_ID = SearchAttributeKey.for_int("UserId")
# The batch a run belongs to, across its continued-as-new runs (batch_processing).
BATCH_ID = SearchAttributeKey.for_keyword("BatchId")

SEARCH_ATTRIBUTES = (USER_ID, BATCH_ID)
