"""Constants, errors and the small helpers shared by the crypto modules."""

from __future__ import annotations

import base64
import logging
import os
import re
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .keys import MasterKeyring


logger = logging.getLogger(__name__)

MASTER_KEYS_ENV: Final = "AIRCOP_MASTER_KEYS"
INDEX_KEY_ENV: Final = "AIRCOP_INDEX_KEY"
MASTER_KEY_FILE: Final = "aircop_master_keys"
INDEX_KEY_FILE: Final = "aircop_index_key"

KEY_SIZE: Final = 32
NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16
WRAPPED_KEY_SIZE: Final = NONCE_SIZE + KEY_SIZE + TAG_SIZE
ENVELOPE_VERSION: Final = 1
STREAM_MAGIC: Final = b"ACS"
STREAM_VERSION: Final = 1
STREAM_PREFIX_SIZE: Final = 8
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
MAX_CHUNK_SIZE: Final = 4 * 1024 * 1024
_MAX_CHUNKS: Final = 2**32
_MAX_KEY_ID_LENGTH: Final = 32

_KEY_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")
_PURPOSE_RE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_WORD_RE = re.compile(r"[^\W_]+")

# Domain separation of the associated data of each use of AES-GCM.
_WRAP_LABEL: Final = b"aircop/wrap\x00"
_DATA_LABEL: Final = b"aircop/data\x00"
_CHUNK_LABEL: Final = b"aircop/chunk\x00"
_RECORD: Final = b"R"
_STREAM: Final = b"S"
_INDEX_SALT: Final = b"aircop/blind-index/v1"

BytesLike = bytes | bytearray | memoryview


# --- errors -------------------------------------------------------------------------


class CryptoError(Exception):
    """Base class of the errors of this module."""


class CryptoConfigurationError(CryptoError, ImproperlyConfigured):
    """Keys are missing or malformed. The message never contains key material."""


class DecryptionError(CryptoError):
    """An envelope or encrypted file is malformed, tampered with, or bound elsewhere.

    ``key_id`` names the master key involved when known (never the key itself).
    """

    def __init__(self, message: str, *, key_id: str | None = None) -> None:
        super().__init__(message)
        self.key_id = key_id


class UnknownKeyError(DecryptionError):
    """The master key id of an envelope is not configured."""


# --- shared helpers -----------------------------------------------------------------


def _as_bytes(value: BytesLike, name: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
    return bytes(value)


def _check_aad(aad: BytesLike) -> bytes:
    if not isinstance(aad, bytes | bytearray | memoryview):
        raise TypeError(
            "aad must be bytes: the record identity, e.g. b'messaging.message:<uid>:<operation>'"
        )
    if not aad:
        raise ValueError("aad must not be empty: it binds the ciphertext to its record")
    return bytes(aad)


def _wrap_aad(kind: bytes, version: int, key_id: str, aad: bytes) -> bytes:
    kid = key_id.encode("ascii")
    return b"".join((_WRAP_LABEL, kind, bytes((version, len(kid))), kid, aad))


def _wrap(
    ring: MasterKeyring, data_key: bytes, *, kind: bytes, version: int, aad: bytes
) -> tuple[str, bytes]:
    key_id = ring.current_key_id
    nonce = os.urandom(NONCE_SIZE)
    sealed = ring._aead(key_id).encrypt(nonce, data_key, _wrap_aad(kind, version, key_id, aad))
    return key_id, nonce + sealed


def _unwrap(
    ring: MasterKeyring, key_id: str, wrapped: bytes, *, kind: bytes, version: int, aad: bytes
) -> bytes:
    aead = ring._aead(key_id)
    try:
        return aead.decrypt(
            wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], _wrap_aad(kind, version, key_id, aad)
        )
    except InvalidTag:
        raise DecryptionError(
            "the wrapped data key failed authentication (tampered, or bound to another record)",
            key_id=key_id,
        ) from None


def _decode_key_id(raw: bytes) -> str:
    try:
        key_id = raw.decode("ascii")
    except UnicodeDecodeError:
        key_id = ""
    if not _KEY_ID_RE.fullmatch(key_id):
        raise DecryptionError("malformed master key id in the header")
    return key_id


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    """Strict, canonical, unpadded base64url: any other spelling is an error."""
    if not isinstance(text, str):
        raise TypeError(f"envelope text must be str, not {type(text).__name__}")
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise DecryptionError("envelope text is not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64url_encode(data) != text:
        raise DecryptionError("envelope text is not canonical base64url")
    return data
