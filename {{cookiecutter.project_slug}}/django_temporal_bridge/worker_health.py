"""The worker's liveness and readiness over HTTP, for Kubernetes' probes.

With TEMPORAL_WORKER_HEALTH_BIND_ADDRESS set (host:port), `WorkerRunner`
serves:

- `GET /livez`: 200 while the process's event loop answers. The server runs
  on that loop, the one that polls Temporal and runs the async activities,
  so a loop blocked by a stray blocking call stops answering, and the probe
  restarts the process. (A server in a thread of its own, such as
  http.server's, would answer even then: that is why it is asyncio's.)
- `GET /readyz`: 200 once the worker polls its task queue (connected, and
  the namespace checked); 503 before, and from SIGTERM on while in-flight
  activities finish, so that a rollout waits for the new worker and stops
  counting the old one at once. It does not ask Temporal: the SDK retries a
  lost connection by itself, and a worker that is not ready gets no traffic
  anyway (it polls), so a Temporal outage would only stall rollouts.

A few lines of the standard library serve two fixed answers: no web
framework, no dependency.
"""

import asyncio
import json
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# How long a client may take to send its request (a probe sends it at once).
REQUEST_TIMEOUT_SECONDS = 5

REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Unavailable"}


def split_bind_address(address: str) -> tuple[str, int]:
    """Return the host and port of "host:port" (the host may be "[::]")."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class HealthServer:
    """Serve /livez and /readyz on the running event loop.

    `readiness_problem()` returns why the worker is not ready, or None when
    it is.
    """

    def __init__(
        self, bind_address: str, readiness_problem: Callable[[], str | None]
    ) -> None:
        self.bind_address = bind_address
        self.readiness_problem = readiness_problem
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        host, port = split_bind_address(self.bind_address)
        self._server = await asyncio.start_server(self._answer, host, port)
        logger.info("Health checks on http://%s/livez and /readyz", self.bind_address)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def response(self, method: str, path: str) -> tuple[int, dict]:
        """The status and JSON body that answer `method path`."""
        if path not in ("/livez", "/readyz"):
            return 404, {"status": "not found"}
        if method not in ("GET", "HEAD"):
            return 405, {"status": "method not allowed"}
        if path == "/readyz" and (problem := self.readiness_problem()):
            return 503, {"status": "not ready", "problem": problem}
        return 200, {"status": "ok"}

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                request_line = await reader.readline()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # the headers: nothing in them changes the answer
            method, target, _ = request_line.decode("latin-1").split(" ", 2)
            status, body = self.response(method, target.split("?", 1)[0])
            content = json.dumps(body).encode()
            writer.write(
                f"HTTP/1.1 {status} {REASONS[status]}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(content)}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            if method != "HEAD":
                writer.write(content)
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError):
            pass  # a client that went away or sent no HTTP: nothing to answer
        finally:
            writer.close()
