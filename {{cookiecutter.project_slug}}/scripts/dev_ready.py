"""Part of `make dev`: sync the schedules, print where everything is, then wait
(honcho stops all processes when one ends). Standard library only."""

import signal
import socket
import subprocess
import sys
import time

SERVICES = [
    ("Temporal gRPC", 7233, "localhost:7233"),
    ("Temporal Web UI", 8080, "http://localhost:8080"),
    ("Django", 8000, "http://localhost:8000"),
]


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    while not answers(SERVICES[0][1]):
        time.sleep(0.5)
    # Not fatal: a failed sync is printed, and the rest of `make dev` runs on.
    subprocess.run([sys.executable, "manage.py", "sync_temporal_schedules"])
    while not all(answers(port) for _, port, _ in SERVICES):
        time.sleep(0.5)
    lines = [f"{name:<16} {where}" for name, _, where in SERVICES]
    lines += [
        f"{'Sign up':<16} http://localhost:8000/signup/",
        f"{'Django admin':<16} http://localhost:8000/admin/  (make superuser)",
        f"{'Emails':<16} printed by the worker (console backend)",
        "Ctrl-C stops everything.",
    ]
    width = max(len(line) for line in lines)
    print("\n".join(["", "=" * width, *lines, "=" * width, ""]), flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
