"""`GET /healthz`: whether this web process can serve, for a load balancer's
or Kubernetes' readiness probe.

200 `{"status": "ok"}` when the database answers `SELECT 1` within
DATABASE_TIMEOUT_SECONDS; 503 naming the problem otherwise (the details go
to the log, not to whoever asks). It does not ask Temporal: Django keeps
serving when Temporal is down (starts that fail are retried by the
reconcile schedules), so a Temporal outage must not take every web pod out
of the load balancer at once.

`HealthCheckMiddleware`, first in MIDDLEWARE, answers the probe before any
other middleware: before the host validation of ALLOWED_HOSTS (Kubernetes
probes send the pod's IP as the Host header, which Django would refuse with
400; the answer builds no URL from the host, so there is nothing to poison),
before the HTTPS redirect (probes speak plain HTTP), and without a session,
authentication or CSRF. The URL in urls.py serves the same view for
reverse("healthz") and for a stack without the middleware.
"""

import logging
import threading

from django.db import connections, transaction
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)

PATH = "/healthz"
# Well below a probe's own timeout (give Kubernetes' timeoutSeconds 3 or
# more): a database that hangs makes the probe fail fast rather than hold a
# web worker.
DATABASE_TIMEOUT_SECONDS = 2.0


class _Check:
    """One `SELECT 1` on a thread of its own, so that the wait is bounded
    whatever the database does (a connection's own timeouts do not cover a
    server that accepts and never answers). It opens a connection of its own
    and closes it: the check proves that a new connection works."""

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.done = threading.Event()
        threading.Thread(target=self._run, name="healthz-database", daemon=True).start()

    def _run(self) -> None:
        connection = connections["default"]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except BaseException as error:
            self.error = error
        finally:
            connection.close()
            self.done.set()


_lock = threading.Lock()
_check: _Check | None = None


def database_problem(timeout: float) -> str | None:
    """Return what is wrong with the default database, or None when it
    answers within `timeout` seconds. Probes that arrive while a check is
    in flight wait for its answer rather than start another (or fail): one
    query at a time, however many probes."""
    global _check
    with _lock:
        if _check is None or _check.done.is_set():
            _check = _Check()
        check = _check
    if not check.done.wait(timeout):
        return f"database did not answer within {timeout:g} s"
    if check.error is not None:
        logger.warning("Health check: the database failed: %s", check.error)
        return f"database unreachable ({type(check.error).__name__})"
    return None


@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when this process can serve, 503 naming the problem."""
    if problem := database_problem(DATABASE_TIMEOUT_SECONDS):
        return JsonResponse({"status": "unavailable", "problem": problem}, status=503)
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    """Answer GET/HEAD /healthz before the rest of the stack (see above)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
