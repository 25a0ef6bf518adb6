"""The Web UI's codec endpoint (/temporal-codec/): Temporal's Codec Server
protocol, for staff users with the route's permission only, with CORS for
the UI's origin only."""

import json

import pytest
from django.contrib.auth.models import Permission
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from django_temporal_bridge.encryption import (
    ENCODING,
    EncryptionCodec,
    generate_key,
    parse_payload_keys,
)

pytestmark = pytest.mark.django_db

UI = "http://temporal.example.com:8080"
# Each route, and the permission it needs.
ROUTES = {"decode": "decode_payloads", "encode": "encode_payloads"}
KEY = generate_key()
PLAIN = DataConverter.default.payload_converter.to_payload({"email": "ada@example.com"})


@pytest.fixture(autouse=True)
def keys(settings):
    settings.TEMPORAL_PAYLOAD_KEYS = f"current:{KEY}"
    settings.TEMPORAL_UI_URL = f"{UI}/namespaces/default/workflows"


def staff_user(django_user_model, *permissions: str):
    user = django_user_model.objects.create_user(username="op", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="django_temporal_bridge", codename__in=permissions
        )
    )
    return user


@pytest.fixture
def staff(client, django_user_model):
    """A staff user who may decode and encode."""
    client.force_login(staff_user(django_user_model, *ROUTES.values()))
    return client


def encrypted(keys: str = f"current:{KEY}"):
    parsed = parse_payload_keys(keys)
    assert parsed is not None
    return EncryptionCodec(parsed).encrypt(PLAIN)


def post(client, route: str, *payloads, origin: str | None = UI, **headers):
    """POST as the UI's browser code does."""
    if origin is not None:
        headers["Origin"] = origin
    body = {"payloads": [json_format.MessageToDict(p) for p in payloads]}
    return client.post(
        f"/temporal-codec/{route}",
        json.dumps(body),
        content_type="application/json",
        headers={"X-Namespace": "default", **headers},
    )


def payloads_of(response) -> list:
    return [
        json_format.ParseDict(payload, Payload())
        for payload in response.json()["payloads"]
    ]


def test_a_staff_user_gets_payloads_decoded_with_cors_for_the_ui(staff):
    response = post(staff, "decode", encrypted(), encrypted())

    assert response.status_code == 200
    assert payloads_of(response) == [PLAIN, PLAIN]
    assert response["Access-Control-Allow-Origin"] == UI
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_a_history_written_with_an_older_key_decodes_after_rotation(staff, settings):
    written = encrypted()
    settings.TEMPORAL_PAYLOAD_KEYS = f"new:{generate_key()},current:{KEY}"

    assert payloads_of(post(staff, "decode", written)) == [PLAIN]


def test_a_payload_of_an_unknown_key_is_refused_naming_its_id(staff):
    response = post(staff, "decode", encrypted(f"retired:{generate_key()}"))

    assert response.status_code == 400
    assert "key id 'retired'" in response.json()["error"]


def test_encode_encrypts_with_the_current_key(staff):
    """The UI encodes what a staff user types to start or signal a workflow."""
    response = post(staff, "encode", PLAIN)

    (payload,) = payloads_of(response)
    assert payload.metadata["encoding"] == ENCODING
    assert payloads_of(post(staff, "decode", payload)) == [PLAIN]


@pytest.mark.parametrize("route", ["decode", "encode"])
def test_anonymous_users_get_403_not_a_login_redirect(client, route):
    response = post(client, route, encrypted())

    assert response.status_code == 403
    assert "email" not in response.content.decode()


def test_users_who_are_not_staff_get_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="ada"))

    response = post(client, "decode", encrypted())

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("permissions", "allowed"),
    [
        pytest.param([], [], id="none"),
        pytest.param(["decode_payloads"], ["decode"], id="decode-only"),
        pytest.param(["encode_payloads"], ["encode"], id="encode-only"),
    ],
)
def test_each_route_needs_its_own_permission(
    client, django_user_model, permissions, allowed
):
    client.force_login(staff_user(django_user_model, *permissions))

    for route, permission in ROUTES.items():
        response = post(client, route, encrypted())
        if route in allowed:
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            assert response.json() == {"error": f"Needs the {permission} permission"}


def test_a_superuser_may_use_both_routes(client, django_user_model):
    client.force_login(
        django_user_model.objects.create_superuser(username="root", password=None)
    )

    assert [post(client, route, encrypted()).status_code for route in ROUTES] == [
        200,
        200,
    ]


def test_inactive_staff_users_get_403(client, django_user_model):
    user = django_user_model.objects.create_user(username="gone", is_staff=True)
    client.force_login(user)
    user.is_active = False
    user.save()

    assert post(client, "decode", encrypted()).status_code == 403


def test_a_post_from_another_origin_is_refused_without_cors_headers(staff):
    response = post(staff, "decode", encrypted(), origin="https://evil.example.com")

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_a_client_that_is_not_a_browser_sends_no_origin_and_is_served(staff):
    """The CLI (--codec-endpoint with the session cookie as a header)."""
    response = post(staff, "decode", encrypted(), origin=None)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_the_preflight_allows_the_ui_origin_and_its_headers(client):
    response = client.options(
        "/temporal-codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == UI
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed
    assert "x-namespace" in allowed


def test_the_preflight_of_another_origin_gets_no_cors_headers(client):
    response = client.options(
        "/temporal-codec/decode",
        headers={
            "Origin": "http://localhost:9999",
            "Access-Control-Request-Method": "POST",
        },
    )

    assert not [name for name in response.headers if name.startswith("Access-Control")]


def test_a_plain_payload_is_a_400_unless_plaintext_is_allowed(staff, settings):
    refused = post(staff, "decode", encrypted(), PLAIN)
    settings.TEMPORAL_PAYLOAD_PLAINTEXT = "allow"
    allowed = post(staff, "decode", encrypted(), PLAIN)

    assert refused.status_code == 400
    assert "not encrypted" in refused.json()["error"]
    assert payloads_of(allowed) == [PLAIN, PLAIN]


@pytest.mark.parametrize(
    "data", [b"", b"short", b"\0" * 20], ids=["empty", "short", "no-tag"]
)
def test_a_malformed_payload_is_a_400_not_a_server_error(staff, data):
    payload = encrypted()
    payload.data = data

    response = post(staff, "decode", payload)

    assert response.status_code == 400
    assert "does not decrypt" in response.json()["error"]


def test_temporals_largest_payloads_decode(staff):
    """2 MB, Temporal's blob size limit: more than Django's 2.5 MB limit on
    a request body once it is base64 in JSON."""
    large = DataConverter.default.payload_converter.to_payload("x" * 2_000_000)
    parsed = parse_payload_keys(f"current:{KEY}")
    assert parsed is not None

    response = post(staff, "decode", EncryptionCodec(parsed).encrypt(large))

    assert response.status_code == 200
    assert payloads_of(response) == [large]


def test_a_body_that_is_not_payloads_is_a_400(staff):
    response = staff.post(
        "/temporal-codec/decode", "not json", content_type="application/json"
    )

    assert response.status_code == 400


def test_without_keys_the_endpoint_is_not_there(staff, settings):
    settings.TEMPORAL_PAYLOAD_KEYS = ""

    assert post(staff, "decode", PLAIN).status_code == 404


def test_get_is_not_allowed(staff):
    assert staff.get("/temporal-codec/decode").status_code == 405
