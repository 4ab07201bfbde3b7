"""Record envelopes: one value, one data key, AES-256-GCM."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._common import (
    _DATA_LABEL,
    _MAX_KEY_ID_LENGTH,
    _RECORD,
    ENVELOPE_VERSION,
    NONCE_SIZE,
    TAG_SIZE,
    WRAPPED_KEY_SIZE,
    BytesLike,
    DecryptionError,
    _as_bytes,
    _b64url_decode,
    _b64url_encode,
    _check_aad,
    _decode_key_id,
    _unwrap,
    _wrap,
)
from .keys import MasterKeyring, _ring

# --- record envelopes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Envelope:
    version: int
    key_id: str
    wrapped_key: bytes
    nonce: bytes
    sealed: bytes

    def to_bytes(self) -> bytes:
        kid = self.key_id.encode("ascii")
        return b"".join(
            (bytes((self.version, len(kid))), kid, self.wrapped_key, self.nonce, self.sealed)
        )


def _parse_envelope(data: bytes) -> _Envelope:
    if len(data) < 2:
        raise DecryptionError("envelope is truncated")
    version, kid_len = data[0], data[1]
    if version != ENVELOPE_VERSION:
        raise DecryptionError(f"unsupported envelope version {version}")
    if not 1 <= kid_len <= _MAX_KEY_ID_LENGTH:
        raise DecryptionError("malformed envelope header")
    wrapped_at = 2 + kid_len
    nonce_at = wrapped_at + WRAPPED_KEY_SIZE
    sealed_at = nonce_at + NONCE_SIZE
    if len(data) < sealed_at + TAG_SIZE:
        raise DecryptionError("envelope is truncated")
    return _Envelope(
        version=version,
        key_id=_decode_key_id(data[2:wrapped_at]),
        wrapped_key=data[wrapped_at:nonce_at],
        nonce=data[nonce_at:sealed_at],
        sealed=data[sealed_at:],
    )


def _data_aad(version: int, aad: bytes) -> bytes:
    return _DATA_LABEL + bytes((version,)) + aad


def encrypt(plaintext: BytesLike, *, aad: BytesLike, keyring: MasterKeyring | None = None) -> bytes:
    """Seal ``plaintext`` for the record identified by ``aad`` (binary envelope)."""
    data = _as_bytes(plaintext, "plaintext")
    aad = _check_aad(aad)
    ring = _ring(keyring)
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_SIZE)
    sealed = AESGCM(data_key).encrypt(nonce, data, _data_aad(ENVELOPE_VERSION, aad))
    key_id, wrapped = _wrap(ring, data_key, kind=_RECORD, version=ENVELOPE_VERSION, aad=aad)
    return _Envelope(ENVELOPE_VERSION, key_id, wrapped, nonce, sealed).to_bytes()


def decrypt(envelope: BytesLike, *, aad: BytesLike, keyring: MasterKeyring | None = None) -> bytes:
    """Open an envelope made by ``encrypt`` for the same ``aad``.

    Raises ``DecryptionError`` when it is malformed, tampered with or bound to
    another record, ``UnknownKeyError`` (naming the key id) when its master key
    is not configured.
    """
    parsed = _parse_envelope(_as_bytes(envelope, "envelope"))
    aad = _check_aad(aad)
    data_key = _unwrap(
        _ring(keyring),
        parsed.key_id,
        parsed.wrapped_key,
        kind=_RECORD,
        version=parsed.version,
        aad=aad,
    )
    try:
        return AESGCM(data_key).decrypt(parsed.nonce, parsed.sealed, _data_aad(parsed.version, aad))
    except InvalidTag:
        raise DecryptionError(
            "the envelope failed authentication (tampered, or bound to another record)",
            key_id=parsed.key_id,
        ) from None


def encrypt_text(plaintext: str, *, aad: BytesLike, keyring: MasterKeyring | None = None) -> str:
    """Seal a string; the envelope as unpadded base64url text (for a text column)."""
    if not isinstance(plaintext, str):
        raise TypeError(f"plaintext must be str, not {type(plaintext).__name__}")
    return _b64url_encode(encrypt(plaintext.encode("utf-8"), aad=aad, keyring=keyring))


def decrypt_text(envelope: str, *, aad: BytesLike, keyring: MasterKeyring | None = None) -> str:
    """Open a text envelope made by ``encrypt_text``."""
    data = decrypt(_b64url_decode(envelope), aad=aad, keyring=keyring)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("the decrypted text is not UTF-8") from None


def envelope_key_id(envelope: BytesLike | str) -> str:
    """The master key id an envelope (binary or text) is wrapped under."""
    data = (
        _b64url_decode(envelope) if isinstance(envelope, str) else _as_bytes(envelope, "envelope")
    )
    return _parse_envelope(data).key_id


def needs_rewrap(envelope: BytesLike | str, *, keyring: MasterKeyring | None = None) -> bool:
    """Whether an envelope (binary or text) is wrapped under an older master key."""
    return envelope_key_id(envelope) != _ring(keyring).current_key_id


@overload
def rewrap(envelope: str, *, aad: BytesLike, keyring: MasterKeyring | None = None) -> str: ...
@overload
def rewrap(
    envelope: BytesLike, *, aad: BytesLike, keyring: MasterKeyring | None = None
) -> bytes: ...
def rewrap(
    envelope: BytesLike | str, *, aad: BytesLike, keyring: MasterKeyring | None = None
) -> bytes | str:
    """Re-wrap the data key under the newest master key; the data ciphertext is kept.

    Text in, text out. The wrapped key's binding to ``aad`` is verified first
    (``DecryptionError`` otherwise); an envelope already under the newest key
    is returned unchanged.
    """
    if isinstance(envelope, str):
        return _b64url_encode(rewrap(_b64url_decode(envelope), aad=aad, keyring=keyring))
    data = _as_bytes(envelope, "envelope")
    parsed = _parse_envelope(data)
    aad = _check_aad(aad)
    ring = _ring(keyring)
    data_key = _unwrap(
        ring, parsed.key_id, parsed.wrapped_key, kind=_RECORD, version=parsed.version, aad=aad
    )
    if parsed.key_id == ring.current_key_id:
        return data
    key_id, wrapped = _wrap(ring, data_key, kind=_RECORD, version=parsed.version, aad=aad)
    return replace(parsed, key_id=key_id, wrapped_key=wrapped).to_bytes()
