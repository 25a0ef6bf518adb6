"""Tracing by the OTEL_* variables (django_temporal_bridge/tracing.py): one trace from a
signup's request to its workflow's activities, and nothing at all when no
variable asks for it."""

import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from django_temporal_bridge import tracing
from django_temporal_bridge.checks import check_tracing_settings
from django_temporal_bridge.testing import (
    RecordingServer,
    Worker,
    database_url,
    free_port,
)


@pytest.fixture(autouse=True)
def no_otel_variables_from_the_shell(monkeypatch):
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a new Python process of the project, on the test settings."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def spans(collector: RecordingServer) -> list[dict]:
    """The spans the collector received: name, ids and service of each."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    found = []
    for body in collector.bodies("/v1/traces"):
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {
                a.key: a.value.string_value for a in resource_spans.resource.attributes
            }
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        {
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "service": resource["service.name"],
                        }
                    )
    return found


def sign_up(base_url: str, username: str) -> None:
    """Sign up through the web server's form, CSRF token and all."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(CookieJar())
    )
    page = opener.open(f"{base_url}/accounts/signup/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    form = {
        "csrfmiddlewaretoken": token,
        "username": username,
        "email": f"{username}@example.com",
        "password1": "a-long-unusual-passphrase",
        "password2": "a-long-unusual-passphrase",
    }
    opener.open(
        f"{base_url}/accounts/signup/",
        urllib.parse.urlencode(form).encode(),
        timeout=30,
    )


def wait_for(condition, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            return result
        time.sleep(0.1)
    return result


# What the worker and the web process export for a signup: the onboarding's
# start, its run and its first two activities (then it waits a day).
EXPECTED = {
    "StartWorkflow:user_onboarding",
    "RunWorkflow:user_onboarding",
    "RunActivity:process_user_activity",
    "RunActivity:send_email_activity",
}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_signups_request_workflow_start_run_and_activity_share_one_trace(
    temporal, task_queue, tmp_path
):
    port = free_port()
    with RecordingServer() as collector:
        otel = {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "50",  # export at once, not every 5 s
        }
        address = temporal.service_client.config.target_host
        # The production web server, and the worker command, on the test database.
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                # A loaded machine must not get a slow request killed.
                "--timeout",
                "120",
            ],
            cwd=settings.BASE_DIR,
            env={
                **os.environ,
                **otel,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": database_url(),
                "TEMPORAL_ADDRESS": address,
                "TEMPORAL_NAMESPACE": temporal.namespace,
                "TEMPORAL_TASK_QUEUE": task_queue,
                "TEMPORAL_START_ONBOARDING_ON_SIGNUP": "true",
                # The signup starts onboarding, not a confirmation link later.
                "DJANGO_ACCOUNT_EMAIL_VERIFICATION": "optional",
            },
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "web.log").open("w"),
        )
        try:
            with Worker(
                tmp_path,
                address=address,
                namespace=temporal.namespace,
                task_queue=task_queue,
                **otel,
            ):
                wait_for(lambda: _answers(f"http://127.0.0.1:{port}/"))
                sign_up(f"http://127.0.0.1:{port}", "grace")
                wait_for(lambda: {s["name"] for s in spans(collector)} >= EXPECTED)
        finally:
            web.terminate()
            web.wait(timeout=30)
            print((tmp_path / "web.log").read_text())

    found = spans(collector)
    request = [s for s in found if s["name"].startswith("POST")]
    assert request, found
    trace_id = request[0]["trace_id"]
    by_name = {s["name"]: s for s in found if s["trace_id"] == trace_id}
    assert set(by_name) >= EXPECTED, found
    # Web and worker are told apart by their default service names.
    assert by_name["StartWorkflow:user_onboarding"]["service"].endswith("-web")
    assert by_name["RunActivity:send_email_activity"]["service"].endswith("-worker")


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except OSError:
        return False
    return True


def test_the_web_process_loads_no_opentelemetry_until_an_otel_variable_asks():
    # One process for both halves (a new one costs seconds): without OTEL_*
    # variables the WSGI application loads; then the console exporter is
    # asked for, and a request's span is printed.
    result = python(
        "import os, sys, config.wsgi\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
        "os.environ |= {'OTEL_TRACES_EXPORTER': 'console', 'OTEL_SERVICE_NAME': 'shop'}\n"
        "from django_temporal_bridge.tracing import configure_tracing, flush_tracing\n"
        "configure_tracing('web')\n"
        "from django.test import Client\n"
        "Client().get('/', headers={'host': 'localhost'})\n"
        "flush_tracing()"
    )

    assert result.returncode == 0, result.stderr
    loaded, printed = result.stdout.split("\n", 1)
    assert loaded == "[]"
    assert '"name": "GET home"' in printed
    assert '"service.name": "shop"' in printed


def test_a_collector_that_never_answers_does_not_hold_up_the_exit(black_hole):
    """exit_now() (the worker's end after SIGTERM) flushes the last spans for
    a bounded time: with an export timeout of two minutes, the process still
    ends before python()'s timeout."""
    result = python(
        "from django_temporal_bridge.tracing import configure_tracing\n"
        "provider = configure_tracing('worker')\n"
        "with provider.get_tracer('test').start_as_current_span('last'):\n"
        "    pass\n"
        "from django_temporal_bridge.client import exit_now\n"
        "exit_now(0)",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{black_hole}",
        OTEL_EXPORTER_OTLP_TIMEOUT="120",
    )

    assert result.returncode == 0, result.stderr


def test_without_otel_variables_clients_get_no_tracing_interceptor():
    assert tracing.traces_exporters() == []
    assert tracing.configure_tracing("web") is None
    assert tracing.temporal_interceptors() == []


def test_an_unknown_exporter_stops_the_startup_naming_the_variable(monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "bogus")

    with pytest.raises(ImproperlyConfigured, match="OTEL_TRACES_EXPORTER is 'bogus'"):
        tracing.configure_tracing("web")
    assert tracing.temporal_interceptors() == []


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "otlp,jaeger"}, "OTEL_TRACES_EXPORTER"),
        (
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            },
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
            },
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ),
    ],
)
def test_values_tracing_cannot_use_fail_the_system_checks(
    monkeypatch, variables, named
):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=named):
        tracing.traces_exporters()
    errors = check_tracing_settings(None)
    assert [error.id for error in errors] == ["django_temporal_bridge.E130"]
    assert errors[0].msg.startswith(named)


def test_an_otlp_endpoint_alone_turns_tracing_on(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")

    assert tracing.traces_exporters() == ["otlp"]
    assert check_tracing_settings(None) == []
