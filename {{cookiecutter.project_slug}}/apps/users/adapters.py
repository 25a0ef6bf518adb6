"""How the accounts (django-allauth) send their emails.

An account email that cannot go out fails its request: nothing of it is
kept (a sign-up is rolled back with the request's transaction, which
ATOMIC_REQUESTS opens), and the visitor is asked to try again (503). These
emails are not sent by a workflow: their links sign the user in, and would
sit in Temporal's history for whoever reads it.
"""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from django.db import transaction
from django.shortcuts import render

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        try:
            super().send_mail(template_prefix, email, context)
        except OSError:  # smtplib's errors; refused, reset, timed out
            logger.exception("Email %s not sent", template_prefix)
            transaction.set_rollback(True)
            # allauth counted the confirmation as sent (one per 3 minutes).
            ratelimit.clear(self.request, action="confirm_email", key=email.lower())
            response = render(self.request, "account/mail_unavailable.html", status=503)
            response["Retry-After"] = "300"
            raise ImmediateHttpResponse(response) from None
