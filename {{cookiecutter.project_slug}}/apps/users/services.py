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


# The `action` of a processing payload names one of these.
USER_ACTIONS: dict[str, Callable[[QuerySet[User]], None]] = {
    "onboard": _onboard,
    "process": _process,
}

# Named selections a batch can process instead of a list of ids: the batch
# workflow pages through them, so a selection may hold any number of users.
USER_SELECTIONS: dict[str, Callable[[], QuerySet[User]]] = {
    "all": lambda: User.objects.all(),
    "active": lambda: User.objects.filter(is_active=True),
    "not_onboarded": lambda: User.objects.filter(onboarded_at__isnull=True),
    # Who the reconcile-onboarding schedule starts onboarding for: the users
    # that signing up would have started it for (see temporal_app.signals).
    "needs_onboarding": lambda: User.objects.filter(
        onboarded_at__isnull=True, is_active=True
    ).exclude(email=""),
}


class UnknownNameError(ValueError):
    """An action or selection that is not registered above."""


def _lookup[T](table: dict[str, T], name: str, kind: str) -> T:
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError(
            f"Unknown user {kind} {name!r}; expected one of {sorted(table)}"
        ) from None


def apply_user_action(user_ids: Iterable[int], action: str) -> list[int]:
    """Apply `action` to the given users; return the ids that do not exist."""
    apply = _lookup(USER_ACTIONS, action, "action")
    wanted = set(user_ids)
    users = User.objects.filter(pk__in=wanted)
    found = set(users.values_list("pk", flat=True))
    apply(users)
    return sorted(wanted - found)


def user_ids_page(selection: str, *, after_id: int, limit: int) -> list[int]:
    """Ids of the selection's users above `after_id`, in order (keyset paging:
    each page costs one indexed query, however deep into the table it is)."""
    users = _lookup(USER_SELECTIONS, selection, "selection")()
    page = users.filter(pk__gt=after_id).order_by("pk")[:limit]
    return list(page.values_list("pk", flat=True))


def users_page(selection: str, *, after_id: int, limit: int) -> list[User]:
    """The selection's users above `after_id`, in id order (keyset paging)."""
    users = _lookup(USER_SELECTIONS, selection, "selection")()
    return list(users.filter(pk__gt=after_id).order_by("pk")[:limit])
