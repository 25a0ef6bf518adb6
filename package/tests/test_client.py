"""Connecting to production clusters and Temporal Cloud: TLS, mutual TLS and
an API key, from Temporal's own environment configuration (the TEMPORAL_*
variables, or a profile of a temporal.toml file).

What the configuration turns on is checked case by case; then real
connections go through a TLS proxy in front of the Temporal dev server, with a
throwaway certificate authority made by the `openssl` command (skipped where
it is missing)."""

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from django_temporal_bridge.client import connect
from django_temporal_bridge.config import client_profile, workflow_url
from django_temporal_bridge.testing import CERTIFICATE, PRIVATE_KEY

CLOUD_PROFILE = """\
[profile.cloud]
address = "example.tmprl.cloud:7233"
namespace = "orders.a1b2c"
api_key = "from-the-file"
"""

# (variables; the connection's address and namespace; its TLS options, or
# False for a plain connection)
# fmt: off
CONNECTIONS = [
    pytest.param({}, ("localhost:7233", "default"), False, id="unset-as-for-the-temporal-cli"),
    pytest.param({"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "orders"}, ("temporal:7233", "orders"), False, id="address-and-namespace"),
    pytest.param({"TEMPORAL_TLS": "true"}, ("localhost:7233", "default"), {}, id="tls-with-system-roots"),
    pytest.param({"TEMPORAL_API_KEY": "key"}, ("localhost:7233", "default"), {}, id="api-key-turns-tls-on"),
    pytest.param({"TEMPORAL_API_KEY": "key", "TEMPORAL_TLS": "false"}, ("localhost:7233", "default"), False, id="tls-false-turns-it-off"),
    pytest.param({"TEMPORAL_TLS_SERVER_NAME": "temporal.internal"}, ("localhost:7233", "default"), {"domain": "temporal.internal"}, id="server-name"),
    pytest.param({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{cert}"}, ("localhost:7233", "default"), {"server_root_ca_cert": CERTIFICATE.encode()}, id="private-ca"),
    pytest.param(
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}"},
        ("localhost:7233", "default"),
        {"client_cert": CERTIFICATE.encode(), "client_private_key": PRIVATE_KEY.encode()},
        id="mutual-tls",
    ),
    pytest.param({"TEMPORAL_CONFIG_FILE": "{toml}", "TEMPORAL_PROFILE": "cloud"}, ("example.tmprl.cloud:7233", "orders.a1b2c"), {}, id="profile-of-a-temporal-toml"),
    pytest.param({"TEMPORAL_CONFIG_FILE": "{toml}", "TEMPORAL_PROFILE": "cloud", "TEMPORAL_ADDRESS": "other:7233"}, ("other:7233", "orders.a1b2c"), {}, id="variables-override-the-profile"),
]
# fmt: on


def tls_fields(tls: TLSConfig | bool) -> dict | bool:
    """False for a plain connection; else the TLS options set ({}: TLS
    verified with the system's roots)."""
    if isinstance(tls, bool):
        return {} if tls else False
    return {name: value for name, value in vars(tls).items() if value is not None}


@pytest.mark.parametrize(("variables", "where", "tls"), CONNECTIONS)
def test_what_the_configuration_connects_to(
    monkeypatch, tmp_path, pem_files, variables, where, tls
):
    (tmp_path / "temporal.toml").write_text(CLOUD_PROFILE)
    for name, value in variables.items():
        monkeypatch.setenv(
            name, value.format(toml=tmp_path / "temporal.toml", **pem_files)
        )

    config = client_profile().to_client_connect_config()

    assert (config["target_host"], config["namespace"]) == where
    assert tls_fields(config.get("tls", False)) == tls


# --- Real connections through a TLS proxy --------------------------------------


def use(monkeypatch, **variables: str) -> None:
    """Connect where and how `variables` say (conftest clears the rest)."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def openssl(directory: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)


def signed_certificate(directory: Path, name: str, extensions: str) -> None:
    """name.key and name.pem, signed by ca.pem."""
    openssl(directory, "req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")  # fmt: skip
    (directory / f"{name}.ext").write_text(extensions)
    openssl(directory, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem",
            "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
            "-extfile", f"{name}.ext", "-out", f"{name}.pem")  # fmt: skip


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Path:
    """A certificate authority, a server certificate for `localhost` and a
    client certificate for `worker`, valid for a day."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    directory = tmp_path_factory.mktemp("tls")
    openssl(directory, "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=Test CA", "-keyout", "ca.key", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    usage = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
    signed_certificate(
        directory,
        "server",
        usage + "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
    )
    signed_certificate(directory, "worker", usage + "extendedKeyUsage=clientAuth\n")
    return directory


@contextlib.asynccontextmanager
async def tls_proxy(target: str, certificates: Path, *, client_certificates: bool):
    """Terminates TLS (asking for a client certificate signed by the CA, when
    told to) and forwards the bytes to the dev server. Yields its address and
    the client certificates it saw."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    context.set_alpn_protocols(["h2"])
    if client_certificates:
        context.load_verify_locations(certificates / "ca.pem")
        context.verify_mode = ssl.CERT_REQUIRED
    host, port = target.rsplit(":", 1)
    seen, writers = [], []

    async def pipe(reader, writer):
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def forward(client_reader, client_writer):
        seen.append(client_writer.get_extra_info("peercert"))
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        writers.extend([client_writer, server_writer])
        await asyncio.gather(
            pipe(client_reader, server_writer), pipe(server_reader, client_writer)
        )

    server = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}", seen
    finally:
        server.close()
        for writer in writers:
            writer.close()


def subject(certificate: dict) -> dict:
    return dict(pair[0] for pair in certificate["subject"])


@pytest.mark.integration
async def test_mutual_tls(dev_server, certificates, monkeypatch):
    async with tls_proxy(
        dev_server.client.service_client.config.target_host,
        certificates,
        client_certificates=True,
    ) as (address, seen):
        use(
            monkeypatch,
            TEMPORAL_ADDRESS=address,
            TEMPORAL_TLS_CLIENT_CERT_PATH=str(certificates / "worker.pem"),
            TEMPORAL_TLS_CLIENT_KEY_PATH=str(certificates / "worker.key"),
            TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(certificates / "ca.pem"),
            TEMPORAL_TLS_SERVER_NAME="localhost",
        )
        client = await connect()
        assert await client.service_client.check_health()

    assert [subject(certificate)["commonName"] for certificate in seen] == ["worker"]


@pytest.mark.integration
async def test_mutual_tls_without_a_client_certificate_is_refused(
    dev_server, certificates, monkeypatch
):
    async with tls_proxy(
        dev_server.client.service_client.config.target_host,
        certificates,
        client_certificates=True,
    ) as (address, seen):
        use(
            monkeypatch,
            TEMPORAL_ADDRESS=address,
            TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(certificates / "ca.pem"),
            TEMPORAL_TLS_SERVER_NAME="localhost",
        )
        with pytest.raises(RuntimeError):
            client = await connect()
            await client.service_client.check_health()

    assert seen == []


@pytest.mark.integration
async def test_api_key_connects_over_tls(dev_server, certificates, monkeypatch):
    """As with Temporal Cloud: server-authenticated TLS and a bearer key (the
    dev server accepts any key; the proxy speaks nothing but TLS)."""
    async with tls_proxy(
        dev_server.client.service_client.config.target_host,
        certificates,
        client_certificates=False,
    ) as (address, seen):
        use(
            monkeypatch,
            TEMPORAL_ADDRESS=address,
            TEMPORAL_API_KEY="test-api-key",
            TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(certificates / "ca.pem"),
            TEMPORAL_TLS_SERVER_NAME="localhost",
        )
        client = await connect()
        assert await client.service_client.check_health()

    assert client.api_key == "test-api-key"
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("workflow_id", "path"),
    [
        pytest.param("onboarding-1", "onboarding-1", id="plain"),
        pytest.param("a/../../x?y=1#z", "a%2F..%2F..%2Fx%3Fy%3D1%23z", id="path-like"),
        pytest.param("naïve id", "na%C3%AFve%20id", id="unicode"),
    ],
)
def test_a_workflow_link_encodes_its_id(settings, monkeypatch, workflow_id, path):
    """An id is any text: a "/" or "?" in one must not lead the link elsewhere."""
    settings.TEMPORAL_UI_URL = "https://ui.example.com/"
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "shop.a1b2c")

    assert workflow_url(workflow_id) == (
        f"https://ui.example.com/namespaces/shop.a1b2c/workflows/{path}"
    )
