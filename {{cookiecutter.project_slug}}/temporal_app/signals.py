"""Start onboarding when a user is created, once the row is committed."""

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from django_temporal_bridge.client import TemporalUnavailable

from .schedules import RECONCILE_ONBOARDING
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
    # Never fail the committed signup: the reconcile schedule starts what did not.
    try:
        start_onboarding(user)
    except TemporalUnavailable as error:
        logger.warning(
            "Onboarding of user %s not started (%s); the %s schedule will start it",
            user.pk,
            error,
            RECONCILE_ONBOARDING,
        )
    except Exception:
        logger.exception(
            "Onboarding of user %s not started; the %s schedule will start it",
            user.pk,
            RECONCILE_ONBOARDING,
        )
