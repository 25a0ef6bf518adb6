import pytest
from allauth.account.models import EmailAddress

from apps.users.services import (
    UnknownNameError,
    apply_user_action,
    may_be_mailed,
    user_ids_page,
)

pytestmark = pytest.mark.django_db


def test_onboarding_stamps_a_user_once(user):
    apply_user_action([user.pk], "onboard")
    user.refresh_from_db()
    first = user.onboarded_at

    apply_user_action([user.pk], "onboard")
    user.refresh_from_db()

    assert first is not None
    assert user.onboarded_at == first


def test_missing_users_are_reported(user):
    assert apply_user_action([user.pk, 424242], "process") == [424242]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: apply_user_action([1], "delete"), id="action"),
        pytest.param(lambda: user_ids_page("vip", after_id=0, limit=1), id="selection"),
    ],
)
def test_unknown_names_are_refused(call):
    with pytest.raises(UnknownNameError, match="expected one of"):
        call()


def test_pages_follow_each_other_without_gaps(django_user_model):
    ids = [
        user.pk
        for user in django_user_model.objects.bulk_create(
            django_user_model(username=f"u{i}") for i in range(7)
        )
    ]
    pages, after_id = [], 0
    while page := user_ids_page("all", after_id=after_id, limit=3):
        pages.append(page)
        after_id = page[-1]

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [user_id for page in pages for user_id in page] == ids


@pytest.mark.parametrize(
    ("verification", "addresses", "onboarded"),
    [
        ("mandatory", [], True),
        ("mandatory", [False], False),
        ("mandatory", [False, True], True),
        ("optional", [False], True),
    ],
    ids=["made-by-code", "unconfirmed", "confirmed", "confirmation-optional"],
)
def test_reconciling_onboards_only_addresses_that_may_be_mailed(
    user, settings, verification, addresses, onboarded
):
    settings.ACCOUNT_EMAIL_VERIFICATION = verification
    for number, verified in enumerate(addresses):
        EmailAddress.objects.create(
            user=user, email=f"{number}-{user.email}", verified=verified
        )

    assert (user_ids_page("needs_onboarding", after_id=0, limit=9) == [user.pk]) is (
        onboarded
    )
    assert may_be_mailed(user) is onboarded
