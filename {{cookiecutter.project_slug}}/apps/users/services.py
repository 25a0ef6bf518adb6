"""What workflows do to users, as plain functions on the ORM.

Activities call these on a worker thread; Django code and tests can call them
directly. Each works on many users with a couple of queries, so a batch
processes a chunk of users in one go.
"""

from collections.abc import Callable, Iterable

from django.db.models import QuerySet
from django.utils import timezone

from .models import User


def _onboard(users: QuerySet[User]) -> None:
    # Only the first onboarding counts; running it again changes nothing.
    users.filter(onboarded_at__isnull=True).update(onboarded_at=timezone.now())


def _process(users: QuerySet[User]) -> None:
    users.update(last_processed_at=timezone.now())


# The `action` of UserProcessingPayload names one of these.
USER_ACTIONS: dict[str, Callable[[QuerySet[User]], None]] = {
    "onboard": _onboard,
    "process": _process,
}


class UnknownActionError(ValueError):
    pass


def apply_user_action(user_ids: Iterable[int], action: str) -> list[int]:
    """Apply `action` to the given users; return the ids that do not exist."""
    try:
        apply = USER_ACTIONS[action]
    except KeyError:
        raise UnknownActionError(
            f"Unknown user action {action!r}; expected one of {sorted(USER_ACTIONS)}"
        ) from None
    wanted = set(user_ids)
    users = User.objects.filter(pk__in=wanted)
    found = set(users.values_list("pk", flat=True))
    apply(users)
    return sorted(wanted - found)
