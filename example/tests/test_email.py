"""Email cannot wedge the worker: a mail server that stops answering fails
the send within EMAIL_TIMEOUT, and no database transaction stays open while
the server talks; the idempotency key still sends each email at most once."""

import asyncio
import smtplib
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.db import connections, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from config.settings.base import mailer
from temporal_app.activities import EmailPayload, send_email_activity
from temporal_app.models import EmailDelivery
from temporal_app.services import CLAIM_MARGIN, EmailInFlightError, send_email_once

# The activity and the checks below use other threads and connections, which
# only see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SMTP_TIMEOUT = 1.0
# The longest any test waits for anything: a regression fails, never hangs.
WAIT = 10.0

EMAIL = {
    "to": "ada@example.com",
    "subject": "Welcome",
    "body": "Hello",
    "from_email": "team@example.com",
    "idempotency_key": "onboarding-1/welcome",
}


class StalledMailServer:
    """A mail server on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections.append(client)
            self.connected.set()

    def hang_up(self) -> None:
        """Close the clients' connections: a client still waiting fails at once."""
        for client in self.connections:
            client.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(WAIT)
        self.listener.close()
        self.hang_up()


@pytest.fixture
def stalled_server():
    server = StalledMailServer()
    yield server
    server.stop()


@pytest.fixture
def smtp_to_stalled_server(settings, monkeypatch, stalled_server):
    """The project's own SMTP mailer (config.settings.base.mailer), from the
    environment, pointed at the stalled server."""
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(stalled_server.port))
    monkeypatch.setenv("EMAIL_TIMEOUT", str(SMTP_TIMEOUT))
    settings.MAILERS = {"default": mailer(SMTP_BACKEND)}


def _committed_deliveries() -> list[tuple[str, str]]:
    try:
        return [
            (delivery.idempotency_key, "sent" if delivery.sent_at else "claimed")
            for delivery in EmailDelivery.objects.all()
        ]
    finally:
        connections.close_all()  # This thread's own connection.


def seen_by_another_connection() -> list[tuple[str, str]]:
    """The deliveries another database connection sees: committed ones only."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(_committed_deliveries).result(timeout=WAIT)
    finally:
        pool.shutdown(wait=False)


# --- A mail server that stops answering ---------------------------------------


async def test_a_mail_server_that_never_answers_fails_the_send_within_the_timeout(
    smtp_to_stalled_server,
):
    started = time.monotonic()
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        await asyncio.wait_for(send_email_activity(EmailPayload(**EMAIL)), WAIT)

    assert SMTP_TIMEOUT <= time.monotonic() - started < WAIT
    assert await asyncio.to_thread(seen_by_another_connection) == []


async def test_no_transaction_is_open_while_the_mail_server_talks(
    smtp_to_stalled_server, stalled_server
):
    sending = asyncio.create_task(send_email_activity(EmailPayload(**EMAIL)))
    assert await asyncio.to_thread(stalled_server.connected.wait, WAIT)

    # The send is now waiting for the server's greeting.
    seen_while_talking = await asyncio.to_thread(seen_by_another_connection)
    stalled_server.hang_up()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        await asyncio.wait_for(sending, WAIT)

    assert seen_while_talking == [("onboarding-1/welcome", "claimed")]
    assert await asyncio.to_thread(seen_by_another_connection) == []


@pytest.mark.parametrize("key", ["onboarding-1/welcome", ""], ids=["keyed", "unkeyed"])
def test_sending_inside_a_transaction_is_refused(key):
    with (
        transaction.atomic(),
        pytest.raises(TransactionManagementError, match="must not run inside"),
    ):
        send_email_once(**{**EMAIL, "idempotency_key": key})

    assert mail.outbox == []


# --- At most one email per key -------------------------------------------------


def claim(age: timedelta) -> EmailDelivery:
    """A claim on EMAIL's key by another attempt, `age` ago, not sent yet."""
    return EmailDelivery.objects.create(
        idempotency_key=EMAIL["idempotency_key"],
        to=EMAIL["to"],
        subject=EMAIL["subject"],
        claimed_at=timezone.now() - age,
    )


async def test_an_email_another_attempt_is_sending_raises_a_retryable_error():
    await sync_to_async(claim)(CLAIM_MARGIN - timedelta(seconds=5))

    # Not a non-retryable ApplicationError: Temporal retries the activity.
    with pytest.raises(EmailInFlightError, match="being sent by another attempt"):
        await send_email_activity(EmailPayload(**EMAIL))

    assert mail.outbox == []


def test_a_claim_left_by_a_dead_attempt_is_taken_over_and_sent():
    claim(CLAIM_MARGIN + timedelta(seconds=5))

    assert send_email_once(**EMAIL) is True

    assert len(mail.outbox) == 1
    assert seen_by_another_connection() == [("onboarding-1/welcome", "sent")]


def test_a_failed_send_releases_its_claim_so_a_retry_sends_once(monkeypatch):
    seen_while_sending = []

    def broken_send(*args, **kwargs):
        seen_while_sending.extend(seen_by_another_connection())
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("temporal_app.services.send_mail", broken_send)
    with pytest.raises(ConnectionRefusedError):
        send_email_once(**EMAIL)
    monkeypatch.undo()

    assert seen_while_sending == [("onboarding-1/welcome", "claimed")]
    assert seen_by_another_connection() == []
    assert [send_email_once(**EMAIL), send_email_once(**EMAIL)] == [True, False]
    assert len(mail.outbox) == 1
