"""Payload encryption: what Temporal stores of workflow and activity inputs,
results, signals, queries, memos and failures is ciphertext (AES-256-GCM).

Off unless TEMPORAL_PAYLOAD_KEYS is set: comma-separated `key_id:base64-key`
entries of 32-byte keys. New payloads are encrypted with the key of
TEMPORAL_PAYLOAD_KEY_ID (default: the first entry); each records the id of
its key, so a payload is decrypted with the key it was written with, and a
key is rotated by adding a new one and keeping the old ones for as long as
histories encrypted with them are kept. The key id and the encoding are
bound to the ciphertext (GCM's associated data): a payload whose metadata
was swapped does not decrypt. Payloads written before that (without the
version mark) still decrypt.

It fails closed. A payload that is not encrypted is refused
(TEMPORAL_PAYLOAD_PLAINTEXT=reject, the default): no one who can write to
the namespace can slip one in; `allow` lets an older, unencrypted history
pass while a namespace moves to encryption. A payload that does not
decrypt raises PayloadDecryptionError, saying why: a 400 at the codec
endpoint; in the worker, the cause of the failed workflow task or activity
attempt (the SDK retries those: a key added back lets them succeed).

Search attributes and workflow ids are not payloads a codec sees: Temporal
indexes them in plain text (keep personal data out of them).

`data_converter()` is what every client of the project uses (client.py;
the worker uses its client's); the codec endpoint for the Web UI
(codec.py) uses `payload_codec()`. The AES-GCM implementation is the
`cryptography` package's.
"""

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from .conf import setting

ENCODING = b"binary/encrypted"
# The metadata entry that names the key a payload was encrypted with.
KEY_ID_METADATA = "encryption-key-id"
# Set on payloads whose key id and encoding are bound as associated data.
VERSION_METADATA = "encryption-version"
VERSION = b"2"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, fresh for every payload, as GCM expects
TAG_BYTES = 16
KEY_ID = re.compile(r"[A-Za-z0-9._-]+")


class PayloadDecryptionError(Exception):
    """A payload is not encrypted, or cannot be decrypted with the
    configured keys."""


@dataclass(frozen=True)
class PayloadKeys:
    """The keys by id, and the id of the key that encrypts new payloads.
    Its repr shows the ids, never the keys (a log line, an error report)."""

    keys: dict[str, bytes]
    current_key_id: str

    def __repr__(self) -> str:
        ids = list(self.keys)
        return f"PayloadKeys(ids={ids}, current_key_id={self.current_key_id!r})"


def parse_payload_keys(keys: str, key_id: str = "") -> PayloadKeys | None:
    """Read TEMPORAL_PAYLOAD_KEYS and TEMPORAL_PAYLOAD_KEY_ID (None: no keys,
    no encryption).

    Raise ImproperlyConfigured naming the variable (and a key by its id or
    position, never by its value) when they are malformed."""
    parsed: dict[str, bytes] = {}
    entries = [entry.strip() for entry in keys.split(",")] if keys.strip() else []
    for position, entry in enumerate(entries, start=1):
        id_, colon, encoded = entry.partition(":")
        if not colon or not KEY_ID.fullmatch(id_) or not encoded:
            raise ImproperlyConfigured(
                f"TEMPORAL_PAYLOAD_KEYS: entry {position} is not key_id:base64-key "
                "(key ids are letters, digits, '.', '_' and '-')"
            )
        if id_ in parsed:
            raise ImproperlyConfigured(
                f"TEMPORAL_PAYLOAD_KEYS: key id {id_!r} appears more than once"
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ImproperlyConfigured(
                f"TEMPORAL_PAYLOAD_KEYS: the key of {id_!r} is not base64"
            ) from None
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"TEMPORAL_PAYLOAD_KEYS: the key of {id_!r} is {len(key)} bytes; "
                f"AES-256 needs {KEY_BYTES}"
            )
        parsed[id_] = key
    key_id = key_id.strip()
    if key_id and key_id not in parsed:
        raise ImproperlyConfigured(
            f"TEMPORAL_PAYLOAD_KEY_ID is {key_id!r}, which is not a key id of "
            "TEMPORAL_PAYLOAD_KEYS"
        )
    if not parsed:
        return None
    return PayloadKeys(keys=parsed, current_key_id=key_id or next(iter(parsed)))


def payload_keys() -> PayloadKeys | None:
    """The keys the settings configure (None: encryption is off)."""
    return parse_payload_keys(
        setting("TEMPORAL_PAYLOAD_KEYS"), setting("TEMPORAL_PAYLOAD_KEY_ID")
    )


def generate_key() -> str:
    """A new random key, base64 as TEMPORAL_PAYLOAD_KEYS takes it."""
    return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()


def _associated_data(key_id: str) -> bytes:
    return ENCODING + b"\0" + key_id.encode()


class EncryptionCodec(PayloadCodec):
    """Encrypt payloads with the current key; decrypt with the key each one
    names, refusing plaintext unless `allow_plaintext`. `encrypt`/`decrypt`
    do one payload, for sync callers (the codec endpoint)."""

    def __init__(self, keys: PayloadKeys, *, allow_plaintext: bool = False) -> None:
        self.keys = keys
        self.allow_plaintext = allow_plaintext
        self._ciphers = {id_: AESGCM(key) for id_, key in keys.keys.items()}

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.keys.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[key_id].encrypt(
            nonce, payload.SerializeToString(), _associated_data(key_id)
        )
        return Payload(
            metadata={
                "encoding": ENCODING,
                KEY_ID_METADATA: key_id.encode(),
                VERSION_METADATA: VERSION,
            },
            data=nonce + ciphertext,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if self.allow_plaintext:
                return payload  # written before the keys were set
            raise PayloadDecryptionError(
                "A payload is not encrypted, and TEMPORAL_PAYLOAD_PLAINTEXT is "
                "reject (set it to allow while older histories are unencrypted)"
            )
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"A payload is encrypted with key id {key_id!r}, which is not in "
                "TEMPORAL_PAYLOAD_KEYS (add the key back to read it)"
            )
        version = payload.metadata.get(VERSION_METADATA)
        if version not in (None, VERSION):
            raise PayloadDecryptionError(
                f"A payload has encryption version {version!r}, which this "
                "code does not know"
            )
        nonce, ciphertext = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        bound = _associated_data(key_id) if version else None
        try:
            if len(ciphertext) < TAG_BYTES:
                raise InvalidTag
            return Payload.FromString(cipher.decrypt(nonce, ciphertext, bound))
        except (InvalidTag, DecodeError):
            raise PayloadDecryptionError(
                f"A payload encrypted with key id {key_id!r} does not decrypt "
                "with that key in TEMPORAL_PAYLOAD_KEYS (a different key under "
                "the same id, or a corrupted or altered payload)"
            ) from None

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]


def payload_codec() -> EncryptionCodec | None:
    """The codec the settings configure (None: encryption is off)."""
    keys = payload_keys()
    if keys is None:
        return None
    allow = setting("TEMPORAL_PAYLOAD_PLAINTEXT").strip().lower() == "allow"
    return EncryptionCodec(keys, allow_plaintext=allow)


def data_converter() -> DataConverter:
    """The SDK's default converter, with the encryption codec when keys are
    set. Failures then carry their message and stack trace in an encoded
    (so encrypted) attribute too: an error message can hold an address."""
    codec = payload_codec()
    if codec is None:
        return DataConverter.default
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
