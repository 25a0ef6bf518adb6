"""Screenshots for the docs, taken from a real project in a real browser.

Bakes a project with the default answers, starts its development stack (the
Temporal dev server with its Web UI, the worker, and Django, as `make dev`
does, on free ports), creates an admin and two users, runs `user_onboarding`
for one of them to completion (with a follow-up after a few seconds instead
of a day), and saves PNGs of the Django admin and the Temporal Web UI. Then
a visitor signs up on the account pages (a first try with mismatched
passwords), confirms their address by the emailed link (as in production,
confirmation is mandatory), follows their onboarding on the status page
until it waits to follow up, and their welcome email is found where the file
email backend wrote it; last, they reset their password by email and log in
with the new one.

Every picture waits for the text it must show, so this is also a smoke test
of the whole stack in a browser (tests/test_screenshots.py, marker
`browser`). It drives Debian's Chromium (`apt-get install chromium`) through
Playwright; nothing is downloaded.

    make screenshots                      # into docs/_static/screenshots
    .venv/bin/python -m scripts.screenshots --output DIR [--venv PATH] [--keep]

`--venv` names a virtualenv that already has the project's dependencies;
without it the baked project's own `make install` creates one.
"""

import argparse
import contextlib
import email
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

from scripts.baked import (
    TEMPLATE_DIR,
    bake,
    free_port,
    install,
    project_env,
    start,
    stop,
    temporal_dev_server,
)

DOCS_SCREENSHOTS = TEMPLATE_DIR / "docs" / "_static" / "screenshots"

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that phones home: the machine may have no internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 560}
UI_VIEWPORT = {"width": 1440, "height": 900}
HISTORY_VIEWPORT = {"width": 1440, "height": 1600}

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "screenshots-only-password"  # a throwaway local stack's
# The user whose onboarding completes, and one the admin action onboards.
USERS = [
    ("ada", "ada@example.com", "Ada", "Lovelace"),
    ("grace", "grace@example.com", "Grace", "Hopper"),
]
FOLLOW_UP_DELAY_SECONDS = 3
# The visitor who signs up on the web.
SIGNUP = {"email": "katherine@example.com", "username": "katherine"}
SIGNUP_PASSWORD = "screenshots-only-passphrase"
NEW_PASSWORD = "screenshots-only-new-passphrase"
STARTUP_TIMEOUT = 90
WORKFLOW_TIMEOUT = 60


class SmokeTestError(AssertionError):
    """The stack or a page did not show what it should."""


@dataclass
class DevStack:
    """Temporal (gRPC and Web UI), the worker and Django of a baked project,
    each a process of its own on a free port, logs in `log_dir`."""

    project: Path
    venv: Path
    log_dir: Path
    grpc_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def email_dir(self) -> Path:
        """Where the file email backend writes the emails the worker sends."""
        return self.log_dir / "emails"

    def env(self, **overrides: str) -> dict[str, str]:
        variables = {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.grpc_port}",
            "TEMPORAL_UI_URL": self.ui_url,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.email_dir),
            # Users created by commands onboard when the script starts it,
            # with a short follow-up delay; only the web process (signups)
            # starts onboarding on its own.
            "TEMPORAL_START_ONBOARDING_ON_SIGNUP": "false",
        }
        return project_env(self.venv, **(variables | overrides))

    def manage(self, *args: str) -> str:
        """Run a management command of the project; return its output."""
        result = subprocess.run(
            [str(self.venv / "bin" / "python"), "manage.py", *args],
            cwd=self.project,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise SmokeTestError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def temporal(self, *args: str) -> str:
        """Run a `temporal` CLI command against the stack's server."""
        result = subprocess.run(
            [str(self.venv / "bin" / "temporal"), *args,
             "--address", f"127.0.0.1:{self.grpc_port}"],
            capture_output=True, text=True, timeout=WORKFLOW_TIMEOUT + 30,
        )  # fmt: skip
        if result.returncode != 0:
            raise SmokeTestError(
                f"temporal {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def start(self, name: str, *command: str, **env: str) -> None:
        self.processes[name] = start(
            list(command),
            log=self.log_dir / f"{name}.log",
            cwd=self.project,
            env=self.env(**env),
        )

    def up(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--no-input")
        self.start(
            "temporal",
            *temporal_dev_server(
                self.venv, self.grpc_port, "--ui-port", str(self.ui_port),
                "--db-filename", str(self.log_dir / "temporal.db"),
                "--ui-disable-news-fetch",
            ),
        )  # fmt: skip
        self.start(
            "worker", str(self.venv / "bin" / "python"), "manage.py",
            "run_temporal_worker",
        )  # fmt: skip
        self.start(
            "web", str(self.venv / "bin" / "python"), "manage.py", "runserver",
            f"127.0.0.1:{self.web_port}", "--noreload",
            TEMPORAL_START_ONBOARDING_ON_SIGNUP="true",
            # As in production: no login, no onboarding before confirming.
            DJANGO_ACCOUNT_EMAIL_VERIFICATION="mandatory",
        )  # fmt: skip
        self.wait_for_http(f"{self.ui_url}/", "temporal")
        self.wait_for_http(f"{self.web_url}/admin/login/", "web")
        self.wait_for_log("worker", "Worker polling task queue")

    def check_running(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise SmokeTestError(
                f"{name} exited with {process.returncode}:\n{self.log(name)}"
            )

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def wait_for_http(self, url: str, name: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            self.check_running(name)
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url, timeout=5),
            ):
                return
            time.sleep(0.5)
        raise SmokeTestError(f"{url} ({name}) did not answer:\n{self.log(name)}")

    def wait_for_log(self, name: str, text: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            self.check_running(name)
            if text in self.log(name):
                return
            time.sleep(0.5)
        raise SmokeTestError(f"{name} never logged {text!r}:\n{self.log(name)}")

    def emails_to(self, address: str, subject: str) -> list[str]:
        """The plain-text bodies of the emails to `address` whose subject
        holds `subject`, as the file backend wrote them."""
        files = sorted(self.email_dir.glob("*.log")) if self.email_dir.exists() else []
        found = []
        for path in files:
            for raw in path.read_bytes().split(b"-" * 79):  # the file's separator
                message = email.message_from_bytes(raw.strip(), policy=policy.default)
                if message["To"] == address and subject in message["Subject"]:
                    found.append(message.get_body(("plain",)).get_content())
        return found

    def link_in_email(self, address: str, subject: str) -> str:
        """The link in the newest such email (there must be one)."""
        bodies = self.emails_to(address, subject)
        if not bodies:
            raise SmokeTestError(
                f"no {subject!r} email to {address} in {self.email_dir}"
            )
        return re.search(rf"{re.escape(self.web_url)}/\S+", bodies[-1])[0]

    def down(self) -> None:
        stop(self.processes.values())
        self.processes.clear()


@contextlib.contextmanager
def dev_stack(project: Path, venv: Path, log_dir: Path) -> Iterator[DevStack]:
    stack = DevStack(project=project, venv=venv, log_dir=log_dir)
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def create_users(stack: DevStack) -> dict[str, int]:
    """The admin and the users; return each username's id."""
    code = "\n".join(
        [
            "from apps.users.models import User",
            f"User.objects.create_superuser({ADMIN_USERNAME!r}, 'admin@example.com',"
            f" {ADMIN_PASSWORD!r})",
            *(
                f"User.objects.create_user({u!r}, {e!r}, first_name={f!r},"
                f" last_name={last!r})"
                for u, e, f, last in USERS
            ),
            "for user in User.objects.order_by('pk'): print(user.username, user.pk)",
        ]
    )
    output = stack.manage("shell", "--no-imports", "-c", code)
    return {
        name: int(pk) for name, pk in (line.split() for line in output.splitlines())
    }


def complete_onboarding(stack: DevStack, user_id: int) -> str:
    """Start user_onboarding with `start_onboarding`; wait for its result."""
    output = stack.manage(
        "start_onboarding", str(user_id), "--follow-up-delay",
        str(FOLLOW_UP_DELAY_SECONDS),
    )  # fmt: skip
    workflow_id = f"onboarding-{user_id}"
    if workflow_id not in output:
        raise SmokeTestError(f"start_onboarding printed {output!r}")
    result = stack.temporal("workflow", "result", "--workflow-id", workflow_id)
    if "COMPLETED" not in result.upper() or '"completed"' not in result:
        raise SmokeTestError(f"{workflow_id} did not complete:\n{result}")
    return workflow_id


@dataclass
class Screenshot:
    name: str
    path: Path
    description: str


def take_screenshots(
    stack: DevStack, output_dir: Path, users: dict[str, int], workflow_id: str
) -> list[Screenshot]:
    from playwright.sync_api import expect, sync_playwright

    output_dir.mkdir(parents=True, exist_ok=True)
    shots: list[Screenshot] = []

    def save(page, name: str, description: str, **options) -> None:
        path = output_dir / f"{name}.png"
        page.screenshot(path=str(path), **options)
        shots.append(Screenshot(name, path, description))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            page.set_default_timeout(30_000)

            # The Django admin: sign in, the users list with onboarded_at.
            page.goto(f"{stack.web_url}/admin/login/?next=/admin/users/user/")
            page.fill("#id_username", ADMIN_USERNAME)
            page.fill("#id_password", ADMIN_PASSWORD)
            page.click("input[type=submit]")
            expect(page.locator("#result_list")).to_contain_text("ada@example.com")
            expect(page.locator("#result_list")).to_contain_text("grace@example.com")

            # The users, and the admin action onboarding Grace.
            page.check(f"input[name=_selected_action][value='{users['grace']}']")
            page.select_option("select[name=action]", "start_onboarding")
            save(
                page,
                "admin-action",
                "The users, and the admin action that starts onboarding",
            )
            page.click("button[name=index]")
            expect(page.locator(".messagelist")).to_contain_text("Onboarding started")
            save(page, "admin-action-done", "Onboarding started from the admin")

            # The users' Onboarding column, read from Temporal on each view:
            # reload until Grace's workflow says it waits (the list is read
            # once per page, it does not refresh itself).
            grace = page.locator("#result_list tr").filter(has_text="grace@example.com")
            ada = page.locator("#result_list tr").filter(has_text="ada@example.com")
            for attempt in range(10):
                page.goto(f"{stack.web_url}/admin/users/user/")
                try:
                    expect(grace).to_contain_text("waiting to follow up", timeout=2000)
                    break
                except AssertionError:
                    if attempt == 9:
                        raise
            expect(ada).to_contain_text("completed")
            # Room for the column: a wider window, the admin's menu folded.
            page.set_viewport_size({"width": UI_VIEWPORT["width"], "height": 560})
            page.click("#toggle-nav-sidebar")
            page.evaluate("window.scrollTo(0, 0)")
            save(
                page,
                "admin-onboarding-column",
                "Each user's onboarding in the users list, linked to the Web UI",
            )

            # The Workflows page: the task queue's recent runs.
            page.goto(f"{stack.web_url}/admin/django_temporal_bridge/workflowrunlist/")
            runs = page.locator("#workflow-runs")
            expect(runs).to_contain_text(workflow_id)
            expect(runs).to_contain_text("user_onboarding")
            save(
                page,
                "admin-workflows",
                "The task queue's recent runs in the admin's Workflows page",
                full_page=True,
            )

            # The Temporal Web UI, a little wider: the workflows, then the
            # completed one (its history scrolls inside the page, so that
            # picture gets a tall window instead of a full-page capture).
            page.set_viewport_size(UI_VIEWPORT)
            rows = page.locator("tr")
            done = rows.filter(has_text=workflow_id)
            running = rows.filter(has_text=f"onboarding-{users['grace']}")
            # The list does not refresh itself: reload until both are listed.
            for attempt in range(10):
                page.goto(f"{stack.ui_url}/namespaces/default/workflows")
                try:
                    expect(running).to_contain_text("Running", timeout=6000)
                    break
                except AssertionError:
                    if attempt == 9:
                        raise
            expect(done).to_contain_text("Completed")
            expect(done).to_contain_text("user_onboarding")
            save(page, "temporal-workflows", "Workflows in the Temporal Web UI")

            page.goto(f"{stack.ui_url}/namespaces/default/workflows/{workflow_id}")
            expect(page.get_by_role("status")).to_have_text("Completed")
            expect(
                page.get_by_role("img", name=f"Workflow {workflow_id}: Completed")
            ).to_be_visible()
            save(
                page,
                "temporal-onboarding-timeline",
                "A completed user_onboarding: input, result and timeline",
            )
            page.set_viewport_size(HISTORY_VIEWPORT)
            page.get_by_role("tab", name="Event History").click()
            for event in ("Workflow Execution Completed", "Timer Fired"):
                expect(page.get_by_text(event).first).to_be_visible()
            save(
                page,
                "temporal-onboarding-history",
                "The event history of a completed user_onboarding",
            )

            # Last, so the pictures above show only the users made for them.
            sign_up(stack, browser.new_page(viewport=VIEWPORT), save)
        finally:
            browser.close()
    return shots


def sign_up(stack: DevStack, page, save) -> None:
    """Sign up (a first try with mismatched passwords), confirm the address by
    the emailed link, which logs the visitor in and starts their onboarding;
    follow it on the status page, which refreshes itself, until it waits to
    follow up, and find the welcome email. Then log out, reset the password
    by email and log in with the new one."""
    from playwright.sync_api import expect

    page.set_default_timeout(30_000)
    page.goto(f"{stack.web_url}/signup/")
    for name, value in SIGNUP.items():
        page.fill(f"#id_{name}", value)
    page.fill("#id_password1", SIGNUP_PASSWORD)
    page.fill("#id_password2", "a-different-passphrase")
    page.click("main button[type=submit]")
    expect(page.locator("main")).to_contain_text("type the same password each time")
    save(page, "signup", "The signup form, showing a validation error", full_page=True)

    page.fill("#id_password1", SIGNUP_PASSWORD)
    page.fill("#id_password2", SIGNUP_PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Verify Your Email Address")
    save(page, "verify-email", "After signing up: confirm the address first")

    page.goto(stack.link_in_email(SIGNUP["email"], "Confirm Your Email"))
    page.click("main button[type=submit]")
    page.wait_for_url("**/onboarding/")
    # A reload would lose this mark: the page must change by itself.
    page.evaluate("window.loadedOnce = true")
    with page.expect_response(lambda response: "status.json" in response.url):
        pass  # the page asks for its progress
    step = page.locator("#onboarding-step")
    expect(step).to_have_text("waiting to follow up", timeout=WORKFLOW_TIMEOUT * 1000)
    expect(page.locator("#onboarding-emails")).to_contain_text("Welcome!")
    if not page.evaluate("window.loadedOnce === true"):
        raise SmokeTestError("the status page reloaded instead of refreshing itself")
    save(page, "onboarding-status", "A new user's onboarding, as the user sees it")
    welcome = stack.emails_to(SIGNUP["email"], "Welcome!")
    if len(welcome) != 1:
        raise SmokeTestError(
            f"expected one welcome email in {stack.email_dir}, found {len(welcome)}"
        )

    page.click("header button[type=submit]")  # log out
    page.goto(f"{stack.web_url}/accounts/password/reset/")
    page.fill("#id_email", SIGNUP["email"])
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Password Reset")
    page.goto(stack.link_in_email(SIGNUP["email"], "Password Reset"))
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    save(page, "password-reset", "Choosing a new password from the emailed link")
    page.click("main button[type=submit]")
    expect(page.locator("main")).to_contain_text("Your password is now changed")
    page.goto(f"{stack.web_url}/login/")
    page.fill("#id_login", SIGNUP["username"])
    page.fill("#id_password", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/onboarding/")


def run(
    output_dir: Path, *, venv: Path | None = None, work_dir: Path | None = None
) -> list[Screenshot]:
    """Bake, start the stack, run onboarding, take the screenshots."""
    with contextlib.ExitStack() as cleanup:
        if work_dir is None:
            work_dir = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="shots-"))
            )
        project = bake(work_dir / "baked")
        venv = venv or install(project)
        with dev_stack(project, venv, work_dir / "logs") as stack:
            users = create_users(stack)
            workflow_id = complete_onboarding(stack, users["ada"])
            shots = take_screenshots(stack, output_dir, users, workflow_id)
            for name in ("worker", "web"):
                if "Traceback" in stack.log(name):
                    raise SmokeTestError(f"{name} logged an error:\n{stack.log(name)}")
            return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DOCS_SCREENSHOTS)
    parser.add_argument(
        "--venv", type=Path, help="a virtualenv with the project's dependencies"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the baked project and logs"
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} not found; apt-get install chromium", file=sys.stderr)
        return 1
    work_dir = Path(tempfile.mkdtemp(prefix="shots-")) if args.keep else None
    shots = run(args.output, venv=args.venv, work_dir=work_dir)
    for shot in shots:
        print(f"{shot.path}  {shot.description}")
    if work_dir:
        print(f"baked project and logs kept in {work_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
