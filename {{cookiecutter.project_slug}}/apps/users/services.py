"""What workflows do to users: plain ORM functions, a few queries per many users."""

from collections.abc import Callable, Iterable

from allauth.account import app_settings as accounts
from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import User


def awaiting_confirmation() -> Q:
    """Users who signed up and have not confirmed their address yet, while
    confirmation is mandatory: nothing of ours mails them before. (Users made
    in the admin or by code have no allauth addresses: they may be mailed.)"""
    if accounts.EMAIL_VERIFICATION != accounts.EmailVerificationMethod.MANDATORY:
        return Q(pk__in=[])
    addresses = EmailAddress.objects.filter(user=OuterRef("pk"))
    return Q(Exists(addresses)) & ~Q(Exists(addresses.filter(verified=True)))


def may_be_mailed(user: User) -> bool:
    return not User.objects.filter(awaiting_confirmation(), pk=user.pk).exists()


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

# Named selections a batch can process instead of ids (of any size).
USER_SELECTIONS: dict[str, Callable[[], QuerySet[User]]] = {
    "all": lambda: User.objects.all(),
    "active": lambda: User.objects.filter(is_active=True),
    "not_onboarded": lambda: User.objects.filter(onboarded_at__isnull=True),
    # For the reconcile-onboarding schedule: whom signing up would onboard.
    "needs_onboarding": lambda: (
        User.objects.filter(onboarded_at__isnull=True, is_active=True)
        .exclude(email="")
        .exclude(awaiting_confirmation())
    ),
}


class UnknownNameError(ValueError):
    """An action or selection not registered above."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind  # "action" or "selection"


def lookup[T](table: dict[str, T], name: str, kind: str) -> T:
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError(
            f"Unknown user {kind} {name!r}; expected one of {sorted(table)}", kind
        ) from None


def apply_user_action(user_ids: Iterable[int], action: str) -> list[int]:
    """Apply `action` to the given users; return the ids that do not exist."""
    apply = lookup(USER_ACTIONS, action, "action")
    wanted = set(user_ids)
    users = User.objects.filter(pk__in=wanted)
    found = set(users.values_list("pk", flat=True))
    apply(users)
    return sorted(wanted - found)


def user_ids_page(selection: str, *, after_id: int, limit: int) -> list[int]:
    """Ids of the selection's users above `after_id`, in order (keyset paging)."""
    users = lookup(USER_SELECTIONS, selection, "selection")()
    page = users.filter(pk__gt=after_id).order_by("pk")[:limit]
    return list(page.values_list("pk", flat=True))


def users_page(selection: str, *, after_id: int, limit: int) -> list[User]:
    """The selection's users above `after_id`, in id order (keyset paging)."""
    users = lookup(USER_SELECTIONS, selection, "selection")()
    return list(users.filter(pk__gt=after_id).order_by("pk")[:limit])


def _next_users(users: QuerySet[User], *, after_id: int, limit: int) -> tuple[int, int]:
    """The last id and number of the first `limit` users above `after_id`,
    counted by the database: no id but the last comes to Python."""
    users = users.filter(pk__gt=after_id)
    last = list(users.order_by("pk").values_list("pk", flat=True)[limit - 1 : limit])
    if last:
        return last[0], limit
    rest = users.aggregate(last_id=Max("pk"), count=Count("pk"))
    return rest["last_id"] or 0, rest["count"]


def user_id_ranges(
    selection: str, *, after_id: int, size: int, count: int
) -> list[tuple[int, int]]:
    """At most `count` ranges of `size` users above `after_id`: (last id, size)."""
    users = lookup(USER_SELECTIONS, selection, "selection")()
    ranges: list[tuple[int, int]] = []
    while len(ranges) < count:
        last_id, found = _next_users(users, after_id=after_id, limit=size)
        if found:
            ranges.append((last_id, found))
        if found < size:
            break
        after_id = last_id
    return ranges


def apply_user_action_to_range(
    action: str, selection: str, *, after_id: int, last_id: int, limit: int
) -> tuple[int, int]:
    """Apply `action` to the next `limit` users of the range in one update;
    return the last one's id and their number."""
    apply = lookup(USER_ACTIONS, action, "action")
    users = lookup(USER_SELECTIONS, selection, "selection")().filter(pk__lte=last_id)
    end, found = _next_users(users, after_id=after_id, limit=limit)
    if found:
        apply(users.filter(pk__gt=after_id, pk__lte=end))
    return end, found
