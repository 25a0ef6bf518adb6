"""Start onboarding once a user may be mailed, after the commit: a user made in
the admin or by code at once; one who signs up when they confirm their address,
where that is mandatory (ACCOUNT_EMAIL_VERIFICATION; docs: the accounts guide)."""

import logging
from functools import partial

from allauth.account.signals import email_confirmed
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.users.services import may_be_mailed
from django_temporal_bridge.client import TemporalUnavailable

from .schedules import RECONCILE_ONBOARDING
from .starters import start_onboarding

logger = logging.getLogger(__name__)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def start_onboarding_for_new_user(sender, instance, created, raw=False, **kwargs):
    if created and not raw and instance.email:
        # A sign-up's request is one transaction (ATOMIC_REQUESTS): after it,
        # the user's unconfirmed address is there for may_be_mailed to see.
        transaction.on_commit(partial(_start, instance))


@receiver(email_confirmed)
def start_onboarding_when_confirmed(sender, request, email_address, **kwargs):
    transaction.on_commit(partial(_start, email_address.user))


def _start(user) -> None:
    if not settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP or not may_be_mailed(user):
        return
    try:
        start_onboarding(user)
    except Exception as error:  # never fails the committed request
        unexpected = not isinstance(error, TemporalUnavailable)
        logger.warning(
            "Onboarding of user %s not started (%s); the %s schedule will start it",
            user.pk,
            error,
            RECONCILE_ONBOARDING,
            exc_info=unexpected,
        )
