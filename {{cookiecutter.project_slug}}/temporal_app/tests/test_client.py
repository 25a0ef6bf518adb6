"""Connecting to production clusters and Temporal Cloud: TLS, mutual TLS and
an API key, from the TEMPORAL_* settings.

`tls_config()` is checked case by case; then real connections go through a
TLS proxy in front of the Temporal dev server, with a throwaway certificate
authority made by the `openssl` command (skipped where it is missing)."""

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings
from temporalio.service import TLSConfig

from temporal_app.client import connect, tls_config

# Every TLS setting off: the cases below turn some on.
NO_TLS = {
    "TEMPORAL_TLS": False,
    "TEMPORAL_API_KEY": "",
    "TEMPORAL_TLS_CLIENT_CERT_PATH": "",
    "TEMPORAL_TLS_CLIENT_KEY_PATH": "",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "",
    "TEMPORAL_TLS_SERVER_NAME": "",
}


@pytest.fixture
def pem_files(tmp_path) -> dict[str, str]:
    files = {"cert": b"client certificate", "key": b"client key", "ca": b"server CA"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return {name: str(tmp_path / name) for name in files}


# (settings; TLSConfig fields expected, or False for a plain connection)
# fmt: off
TLS_CASES = [
    pytest.param({}, False, id="off"),
    pytest.param({"TEMPORAL_TLS": True}, {}, id="tls-with-system-roots"),
    pytest.param({"TEMPORAL_API_KEY": "key"}, {}, id="api-key-turns-tls-on"),
    pytest.param({"TEMPORAL_TLS_SERVER_NAME": "temporal.internal"}, {"domain": "temporal.internal"}, id="server-name"),
    pytest.param({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{ca}"}, {"server_root_ca_cert": b"server CA"}, id="private-ca"),
    pytest.param(
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}"},
        {"client_cert": b"client certificate", "client_private_key": b"client key"},
        id="mutual-tls",
    ),
]
# fmt: on


@pytest.mark.parametrize(("overrides", "expected"), TLS_CASES)
def test_tls_config(pem_files, overrides, expected):
    overrides = {
        name: value.format(**pem_files) if isinstance(value, str) else value
        for name, value in overrides.items()
    }
    with override_settings(**{**NO_TLS, **overrides}):
        config = tls_config()

    if expected is False:
        assert config is False
    else:
        assert config == TLSConfig(**expected)


# --- Real connections through a TLS proxy --------------------------------------


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
async def test_mutual_tls(dev_server, certificates):
    async with tls_proxy(
        dev_server.client.service_client.config.target_host,
        certificates,
        client_certificates=True,
    ) as (address, seen):
        with override_settings(
            **{
                **NO_TLS,
                "TEMPORAL_ADDRESS": address,
                "TEMPORAL_TLS_CLIENT_CERT_PATH": str(certificates / "worker.pem"),
                "TEMPORAL_TLS_CLIENT_KEY_PATH": str(certificates / "worker.key"),
                "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates / "ca.pem"),
                "TEMPORAL_TLS_SERVER_NAME": "localhost",
            }
        ):
            client = await connect()
            assert await client.service_client.check_health()

    assert [subject(certificate)["commonName"] for certificate in seen] == ["worker"]


@pytest.mark.integration
async def test_mutual_tls_without_a_client_certificate_is_refused(
    dev_server, certificates
):
    async with tls_proxy(
        dev_server.client.service_client.config.target_host,
        certificates,
        client_certificates=True,
    ) as (address, seen):
        with (
            override_settings(
                **{
                    **NO_TLS,
                    "TEMPORAL_ADDRESS": address,
                    "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates / "ca.pem"),
                    "TEMPORAL_TLS_SERVER_NAME": "localhost",
                }
            ),
            pytest.raises(RuntimeError),
        ):
            client = await connect()
            await client.service_client.check_health()

    assert seen == []


@pytest.mark.integration
async def test_api_key_connects_over_tls(dev_server, certificates):
    """As with Temporal Cloud: server-authenticated TLS and a bearer key (the
    dev server accepts any key; the proxy speaks nothing but TLS)."""
    async with tls_proxy(
        dev_server.client.service_client.config.target_host,
        certificates,
        client_certificates=False,
    ) as (address, seen):
        with override_settings(
            **{
                **NO_TLS,
                "TEMPORAL_ADDRESS": address,
                "TEMPORAL_API_KEY": "test-api-key",
                "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certificates / "ca.pem"),
                "TEMPORAL_TLS_SERVER_NAME": "localhost",
            }
        ):
            client = await connect()
            assert await client.service_client.check_health()

    assert client.api_key == "test-api-key"
    assert len(seen) == 1
