"""The custom search attributes that the example's workflows carry, defined
once: the starters set them, the admin lists a user's or a batch's workflows
by them, and continue-as-new carries them to the next run.

Every server the project starts registers them (`make temporal`, the Compose
stack, the test servers); for another cluster see the Temporal Cloud guide.
Their values are stored unencrypted: ids, never names or email addresses.
"""

from temporalio.common import SearchAttributeKey

# The user whose workflow it is (user_onboarding).
USER_ID = SearchAttributeKey.for_int("UserId")
# The batch a run belongs to, across its continued-as-new runs (batch_processing).
BATCH_ID = SearchAttributeKey.for_keyword("BatchId")

SEARCH_ATTRIBUTES = (USER_ID, BATCH_ID)
