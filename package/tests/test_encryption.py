"""Payload encryption: AES-256-GCM with a fresh nonce per payload, each
payload naming its key so keys rotate, key id and encoding bound to the
ciphertext; plaintext and malformed payloads refused with a clear error; a
bad key configuration stops startup naming the variable, never the
key."""

import base64

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.core.management import ManagementUtility
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from django_temporal_bridge.checks import check_temporal_settings
from django_temporal_bridge.client import connect
from django_temporal_bridge.encryption import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadDecryptionError,
    data_converter,
    generate_key,
    parse_payload_keys,
    payload_codec,
)

KEY_A = generate_key()
KEY_B = generate_key()
PLAIN = DataConverter.default.payload_converter.to_payload(
    {"email": "ada@example.com", "name": "Ada Lovelace"}
)


def codec(keys: str, key_id: str = "", **options) -> EncryptionCodec:
    parsed = parse_payload_keys(keys, key_id)
    assert parsed is not None
    return EncryptionCodec(parsed, **options)


def altered(payload: Payload, *, data: bytes | None = None, **metadata: bytes):
    """A copy of `payload` with other data, or other metadata (None drops)."""
    copy = Payload()
    copy.CopyFrom(payload)
    if data is not None:
        copy.data = data
    for name, value in metadata.items():
        name = name.replace("_", "-")
        if value is None:
            del copy.metadata[name]
        else:
            copy.metadata[name] = value
    return copy


def test_a_payload_is_encrypted_with_a_fresh_nonce_and_names_its_key():
    a = codec(f"a:{KEY_A}")

    first, second = a.encrypt(PLAIN), a.encrypt(PLAIN)

    assert first.metadata["encoding"] == ENCODING
    assert first.metadata[KEY_ID_METADATA] == b"a"
    assert b"ada@example.com" not in first.SerializeToString()
    assert first.data[:12] != second.data[:12]  # the nonce
    assert a.decrypt(first) == a.decrypt(second) == PLAIN


def test_a_history_written_with_key_a_decodes_after_key_b_becomes_current():
    written_with_a = codec(f"a:{KEY_A}").encrypt(PLAIN)

    rotated = codec(f"b:{KEY_B},a:{KEY_A}")

    assert rotated.encrypt(PLAIN).metadata[KEY_ID_METADATA] == b"b"
    assert rotated.decrypt(written_with_a) == PLAIN


def test_the_key_id_setting_chooses_the_key_of_new_payloads():
    assert (
        codec(f"a:{KEY_A},b:{KEY_B}", "b").encrypt(PLAIN).metadata[KEY_ID_METADATA]
        == b"b"
    )


def test_an_unknown_key_id_is_named():
    written_with_a = codec(f"a:{KEY_A}").encrypt(PLAIN)

    with pytest.raises(PayloadDecryptionError, match="key id 'a', which is not in"):
        codec(f"b:{KEY_B}").decrypt(written_with_a)


def test_another_key_under_the_same_id_is_refused_clearly():
    written = codec(f"a:{KEY_A}").encrypt(PLAIN)

    with pytest.raises(PayloadDecryptionError, match="does not decrypt"):
        codec(f"a:{KEY_B}").decrypt(written)


def test_a_payload_that_is_not_encrypted_is_refused_unless_plaintext_is_allowed():
    with pytest.raises(PayloadDecryptionError, match="not encrypted"):
        codec(f"a:{KEY_A}").decrypt(PLAIN)

    assert codec(f"a:{KEY_A}", allow_plaintext=True).decrypt(PLAIN) is PLAIN


@pytest.mark.parametrize(
    ("value", "allowed"), [("reject", False), ("allow", True), ("Allow ", True)]
)
def test_the_plaintext_setting_chooses(settings, value, allowed):
    settings.TEMPORAL_PAYLOAD_KEYS = f"a:{KEY_A}"
    settings.TEMPORAL_PAYLOAD_PLAINTEXT = value

    assert check_temporal_settings(None) == []
    assert payload_codec().allow_plaintext is allowed


def test_a_bad_plaintext_setting_is_named(settings):
    settings.TEMPORAL_PAYLOAD_PLAINTEXT = "maybe"

    [problem] = check_temporal_settings(None)

    assert problem.id == "django_temporal_bridge.E142"
    assert problem.msg == "TEMPORAL_PAYLOAD_PLAINTEXT is 'maybe'"


MALFORMED = {
    "empty": lambda written: altered(written, data=b""),
    "shorter-than-a-nonce": lambda written: altered(written, data=b"short"),
    "a-nonce-and-no-tag": lambda written: altered(written, data=written.data[:20]),
    "altered": lambda written: altered(written, data=written.data[:-1] + b"\0"),
    "unknown-version": lambda written: altered(written, encryption_version=b"9"),
}


@pytest.mark.parametrize("alter", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_payload_is_a_clear_error(alter):
    a = codec(f"a:{KEY_A}")

    with pytest.raises(PayloadDecryptionError, match=r"key id 'a'|version"):
        a.decrypt(alter(a.encrypt(PLAIN)))


def test_the_key_id_and_encoding_are_bound_to_the_ciphertext():
    """The same key under two ids: relabelling a payload, or dropping its
    version mark (to skip the binding), is caught."""
    both = codec(f"a:{KEY_A},b:{KEY_A}")
    written = both.encrypt(PLAIN)

    for swapped in (
        altered(written, encryption_key_id=b"b"),
        altered(written, encryption_version=None),
    ):
        with pytest.raises(PayloadDecryptionError, match="does not decrypt"):
            both.decrypt(swapped)


def test_a_payload_written_before_the_binding_still_decrypts():
    nonce = b"\x01" * 12
    sealed = AESGCM(base64.b64decode(KEY_A)).encrypt(
        nonce, PLAIN.SerializeToString(), None
    )
    older = Payload(
        metadata={"encoding": ENCODING, KEY_ID_METADATA: b"a"}, data=nonce + sealed
    )

    assert codec(f"a:{KEY_A}").decrypt(older) == PLAIN


async def test_without_keys_nothing_is_encrypted(settings):
    settings.TEMPORAL_PAYLOAD_KEYS = ""

    assert data_converter() is DataConverter.default


async def test_with_keys_failure_messages_are_encrypted_too(settings):
    settings.TEMPORAL_PAYLOAD_KEYS = f"a:{KEY_A}"
    failure = Failure()

    await data_converter().encode_failure(
        ApplicationError("No user ada@example.com"), failure
    )

    assert b"ada@example.com" not in failure.SerializeToString()
    decoded = await data_converter().decode_failure(failure)
    assert str(decoded) == "No user ada@example.com"


SHORT = base64.b64encode(b"x" * 16).decode()
# (TEMPORAL_PAYLOAD_KEYS, TEMPORAL_PAYLOAD_KEY_ID, the error's id, its message)
# fmt: off
BAD_KEYS = [
    pytest.param("a", "", "E140", "TEMPORAL_PAYLOAD_KEYS: entry 1 is not key_id:base64-key", id="no-colon"),
    pytest.param(f"a:{KEY_A},:{KEY_B}", "", "E140", "TEMPORAL_PAYLOAD_KEYS: entry 2 is not", id="empty-key-id"),
    pytest.param(f"a b:{KEY_A}", "", "E140", "entry 1 is not", id="space-in-key-id"),
    pytest.param("a:not base64!", "", "E140", "the key of 'a' is not base64", id="not-base64"),
    pytest.param(f"a:{SHORT}", "", "E140", "the key of 'a' is 16 bytes; AES-256 needs 32", id="wrong-length"),
    pytest.param(f"a:{KEY_A},a:{KEY_B}", "", "E140", "key id 'a' appears more than once", id="duplicate-id"),
    pytest.param(f"a:{KEY_A}", "b", "E141", "TEMPORAL_PAYLOAD_KEY_ID is 'b', which is not a key id", id="key-id-unknown"),
    pytest.param("", "a", "E141", "TEMPORAL_PAYLOAD_KEY_ID is 'a'", id="key-id-without-keys"),
]
# fmt: on


@pytest.mark.parametrize(("keys", "key_id", "error_id", "message"), BAD_KEYS)
def test_a_bad_key_configuration_is_named(settings, keys, key_id, error_id, message):
    settings.TEMPORAL_PAYLOAD_KEYS, settings.TEMPORAL_PAYLOAD_KEY_ID = keys, key_id

    problems = check_temporal_settings(None)

    assert [problem.id for problem in problems] == [
        f"django_temporal_bridge.{error_id}"
    ]
    assert message in problems[0].msg
    assert KEY_A not in problems[0].msg  # a secret is never printed
    assert problems[0].hint


def test_keys_with_spaces_around_entries_pass(settings):
    settings.TEMPORAL_PAYLOAD_KEYS = f" a:{KEY_A} , b:{KEY_B} "
    settings.TEMPORAL_PAYLOAD_KEY_ID = "b"

    assert check_temporal_settings(None) == []


async def test_clients_refuse_to_connect_with_bad_keys(settings):
    """Also where no system checks run (gunicorn, a script)."""
    settings.TEMPORAL_PAYLOAD_KEYS = f"a:{SHORT}"

    with pytest.raises(ImproperlyConfigured, match="TEMPORAL_PAYLOAD_KEYS"):
        await connect()


@pytest.mark.django_db  # the system checks ask the database a question or two
def test_generate_payload_key_prints_an_entry_even_while_the_keys_are_bad(
    settings, capsys
):
    """It is when the keys are broken that one needs a new one: run as
    `manage.py generate_payload_key` runs it, system checks included."""
    settings.TEMPORAL_PAYLOAD_KEYS = "broken"

    ManagementUtility(["manage.py", "generate_payload_key", "2026-01"]).execute()

    entry = capsys.readouterr().out.strip()
    assert entry.startswith("2026-01:")
    settings.TEMPORAL_PAYLOAD_KEYS = entry
    assert check_temporal_settings(None) == []


def test_the_keys_show_their_ids_never_the_keys():
    keys = parse_payload_keys(f"a:{KEY_A},b:{KEY_B}", "b")

    assert repr(keys) == "PayloadKeys(ids=['a', 'b'], current_key_id='b')"
    assert str(keys) == repr(keys)
