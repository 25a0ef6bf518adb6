"""Start onboarding when a user is created, once the row is committed."""

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .starters import start_onboarding

logger = logging.getLogger(__name__)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def start_onboarding_for_new_user(sender, instance, created, raw=False, **kwargs):
    if not created or raw or not settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP:
        return
    if not instance.email:
        logger.info("User %s has no email address: no onboarding", instance.pk)
        return
    # After the commit, so no workflow starts for a rolled-back user.
    transaction.on_commit(partial(_start, instance))


def _start(user) -> None:
    try:
        start_onboarding(user)
    except Exception:
        # An unreachable Temporal must not fail the signup that just committed.
        logger.exception(
            "Could not start onboarding for user %s; start it later with "
            "`python manage.py start_onboarding %s`",
            user.pk,
            user.pk,
        )
