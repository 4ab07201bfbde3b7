"""Encryption at rest: envelope encryption, streaming file encryption, blind indexes.

Only ``cryptography`` primitives are used (AES-256-GCM, HKDF-SHA256) plus the
standard library's HMAC. Nothing here logs, prints or puts in an exception
message a key, a data key or a plaintext.

Records (``encrypt`` / ``decrypt``)
    Every record gets a fresh 256-bit data key and a random 96-bit nonce. The
    data key is wrapped with AES-256-GCM under the newest master key. The
    caller's ``aad`` (the record identity, e.g.
    ``b"messaging.message:<uid>:<operation_id>"``) is bound as associated data
    to the data *and*, together with the master key id, to the wrapped key, so
    an envelope copied into another row does not decrypt. Envelope, version 1::

        version   1 byte   0x01
        kid_len   1 byte   1..32
        key_id    kid_len  ASCII master key id
        wrapped   60 bytes wrap nonce (12) || AES-GCM(master, data key) (32 + 16 tag)
        nonce     12 bytes
        sealed    rest     AES-GCM(data key, plaintext) ciphertext || 16-byte tag

    Overhead: 90 bytes plus the key id. The text helpers carry the same bytes
    as unpadded base64url. Key rotation (``rewrap``) replaces only ``key_id``
    and ``wrapped``: the data's associated data does not include the key id.

Files (``encrypt_stream`` / ``decrypt_stream``)
    A header, then chunks, so a file never sits whole in memory. Version 1::

        magic       3 bytes  b"ACS"
        version     1 byte   0x01
        chunk_size  4 bytes  big-endian plaintext bytes per chunk, 1..MAX_CHUNK_SIZE
        kid_len     1 byte   1..32
        key_id      kid_len
        wrapped     60 bytes the per-file data key, wrapped as for records
        prefix      8 bytes  random nonce prefix
        chunk 0..n  each AES-GCM(data key) of chunk_size plaintext bytes (the last
                    one 0..chunk_size) || 16-byte tag

    Chunk *i* uses the nonce ``prefix || uint32(i)`` and the associated data
    (version, chunk_size, *i*, last-chunk flag, file aad) (the STREAM
    construction), so truncation, reordering, duplication or appending of
    chunks fails authentication. An empty file is one empty final chunk.
    Every header byte is authenticated: the key id and wrapped key by the key
    unwrap, the rest by every chunk. ``rewrap_stream_header`` changes only the
    header.

Master keys
    ``AIRCOP_MASTER_KEYS``: comma-separated ``keyid:base64key`` entries, newest
    first; new data is wrapped under the first, the others only decrypt.
    Without it (embedded default) a key is generated once into
    ``<local dir>/aircop_master_keys`` (mode 0600, same format, so it can be
    rotated too) with a logged warning; with ``settings.PRODUCTION`` a missing
    variable is a ``CryptoConfigurationError``.

Blind indexes
    ``blind_index`` is HMAC-SHA256 under a per-purpose key derived (HKDF) from
    ``AIRCOP_INDEX_KEY``, a key *separate* from the master keys: a blind index
    is compared, not decrypted, so its key must stay the same for as long as
    the stored indexes live. Deriving it from the newest master key would
    change every index on each rotation (every search silently returns nothing
    until a full re-index, which needs every record decrypted); a separate key
    also means a leaked index key decrypts nothing, and a leaked master key
    does not help guess indexed tokens. Rotating the index key means
    recomputing every stored index. A blind index reveals which records share
    a token (that is what makes it searchable) and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
import struct
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Final, Literal, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "INDEX_KEY_ENV",
    "MASTER_KEYS_ENV",
    "MAX_CHUNK_SIZE",
    "BlindIndexKey",
    "CryptoConfigurationError",
    "CryptoError",
    "DecryptionError",
    "MasterKeyring",
    "UnknownKeyError",
    "blind_index",
    "decrypt",
    "decrypt_stream",
    "decrypt_stream_chunks",
    "decrypt_text",
    "encrypt",
    "encrypt_stream",
    "encrypt_text",
    "envelope_key_id",
    "generate_index_key",
    "generate_master_key_entry",
    "get_index_key",
    "get_keyring",
    "keyword_indexes",
    "needs_rewrap",
    "normalise_token",
    "reset_key_cache",
    "rewrap",
    "rewrap_stream_header",
    "stream_needs_rewrap",
    "tokens",
    "verify_blind_index",
]

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


# --- settings and local key files ----------------------------------------------------


def _setting(name: str, default: object) -> object:
    from django.conf import settings

    if not settings.configured:
        return default
    return getattr(settings, name, default)


def _production(explicit: bool | None) -> bool:
    if explicit is not None:
        return explicit
    return bool(_setting("PRODUCTION", False))


def _local_dir(explicit: str | os.PathLike[str] | None) -> Path:
    candidate = (
        explicit
        or _setting("AIRCOP_LOCAL_DIR", None)
        or _setting("LOCAL_DIR", None)
        or os.environ.get("AIRCOP_LOCAL_DIR")
    )
    if candidate:
        return Path(candidate)  # type: ignore[arg-type]
    return Path(__file__).resolve().parent.parent / ".local"


def _read_local_secret(path: Path) -> str:
    with path.open("r", encoding="ascii") as handle:
        if os.fstat(handle.fileno()).st_mode & 0o077:
            logger.warning("%s is readable by group or others; run: chmod 600 %s", path, path)
        return handle.read().strip()


def _load_or_create_local_secret(path: Path, make: Callable[[], str], what: str) -> str:
    """Read ``path``; create it first (mode 0600, atomically) when it does not exist."""
    try:
        text = _read_local_secret(path)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(make() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)  # atomic and exclusive: a concurrent creator wins once
            except FileExistsError:
                pass
            else:
                logger.warning(
                    "Generated a new local %s in %s (embedded default, not for production). "
                    "Back this file up: data encrypted under it is unreadable without it.",
                    what,
                    path,
                )
        finally:
            os.unlink(tmp)
        return _read_local_secret(path)
    logger.warning("Using the local %s from %s (embedded default, not for production).", what, path)
    return text


def _decode_key(text: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not, of exactly 32 bytes; else None."""
    value = text.strip().translate(str.maketrans("-_", "+/"))
    value += "=" * (-len(value) % 4)
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_SIZE else None


# --- master keys --------------------------------------------------------------------


def generate_master_key_entry(key_id: str) -> str:
    """A new ``keyid:base64key`` entry for ``AIRCOP_MASTER_KEYS`` (prepend it to rotate)."""
    if not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError("a key id is 1-32 characters of A-Z a-z 0-9 . _ -")
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode('ascii')}"


class MasterKeyring:
    """The master keys, newest first: the first wraps new data keys, all unwrap."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise CryptoConfigurationError("a master keyring needs at least one key")
        ordered: dict[str, bytes] = {}
        for key_id, key in keys:
            if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
                raise CryptoConfigurationError("a key id is 1-32 characters of A-Z a-z 0-9 . _ -")
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                raise CryptoConfigurationError(f"master key {key_id!r} must be 32 bytes")
            if key_id in ordered:
                raise CryptoConfigurationError(f"duplicate master key id {key_id!r}")
            ordered[key_id] = key
        self._keys = ordered

    @classmethod
    def parse(cls, value: str, *, source: str = MASTER_KEYS_ENV) -> MasterKeyring:
        """Parse ``keyid:base64key[,keyid:base64key...]`` (newest first).

        Raises ``CryptoConfigurationError`` naming the entry's position (and its
        id once it is known to be one), never its key.
        """
        entries: list[tuple[str, bytes]] = []
        seen: set[str] = set()
        for position, raw in enumerate(value.split(","), start=1):
            entry = raw.strip()
            if not entry:
                raise CryptoConfigurationError(f"{source}: entry {position} is empty")
            key_id, separator, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not separator:
                raise CryptoConfigurationError(
                    f"{source}: entry {position} is not of the form keyid:base64key"
                )
            if not _KEY_ID_RE.fullmatch(key_id):
                raise CryptoConfigurationError(
                    f"{source}: entry {position} has an invalid key id "
                    "(1-32 characters of A-Z a-z 0-9 . _ -)"
                )
            if key_id in seen:
                raise CryptoConfigurationError(f"{source}: duplicate key id {key_id!r}")
            key = _decode_key(encoded)
            if key is None:
                raise CryptoConfigurationError(
                    f"{source}: key {key_id!r} (entry {position}) is not base64 of 32 bytes"
                )
            seen.add(key_id)
            entries.append((key_id, key))
        return cls(entries)

    @classmethod
    def from_environment(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        local_dir: str | os.PathLike[str] | None = None,
        production: bool | None = None,
    ) -> MasterKeyring:
        """Load ``AIRCOP_MASTER_KEYS``; without it, the embedded default's local key file.

        ``production`` defaults to ``settings.PRODUCTION`` and ``local_dir`` to
        ``settings.AIRCOP_LOCAL_DIR`` (then ``settings.LOCAL_DIR``).
        """
        value = (os.environ if environ is None else environ).get(MASTER_KEYS_ENV, "").strip()
        if value:
            return cls.parse(value)
        if _production(production):
            raise CryptoConfigurationError(
                f"{MASTER_KEYS_ENV} must be set when AIRCOP_PRODUCTION=1."
            )
        path = _local_dir(local_dir) / MASTER_KEY_FILE
        text = _load_or_create_local_secret(
            path,
            lambda: generate_master_key_entry(f"local-{secrets.token_hex(3)}"),
            "master key",
        )
        return cls.parse(text, source=str(path))

    @property
    def current_key_id(self) -> str:
        """The id of the newest key, which wraps every new data key."""
        return next(iter(self._keys))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """All ids, newest first."""
        return tuple(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"MasterKeyring(key_ids={self.key_ids!r})"

    def _aead(self, key_id: str) -> AESGCM:
        try:
            return AESGCM(self._keys[key_id])
        except KeyError:
            raise UnknownKeyError(
                f"master key {key_id!r} is not configured; add it to {MASTER_KEYS_ENV}",
                key_id=key_id,
            ) from None


# --- blind index key ----------------------------------------------------------------


def generate_index_key() -> str:
    """A new base64 value for ``AIRCOP_INDEX_KEY``."""
    return base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode("ascii")


class BlindIndexKey:
    """The root key of blind indexes; one HKDF-derived HMAC key per purpose."""

    __slots__ = ("_key", "_lock", "_subkeys")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_SIZE:
            raise CryptoConfigurationError("the blind index key must be 32 bytes")
        self._key = key
        self._subkeys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, value: str, *, source: str = INDEX_KEY_ENV) -> BlindIndexKey:
        """Parse a base64 (standard or URL-safe) 32-byte key."""
        key = _decode_key(value)
        if key is None:
            raise CryptoConfigurationError(f"{source} is not base64 of 32 bytes")
        return cls(key)

    @classmethod
    def from_environment(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        local_dir: str | os.PathLike[str] | None = None,
        production: bool | None = None,
    ) -> BlindIndexKey:
        """Load ``AIRCOP_INDEX_KEY``, with the same embedded default as the master keys."""
        value = (os.environ if environ is None else environ).get(INDEX_KEY_ENV, "").strip()
        if value:
            return cls.parse(value)
        if _production(production):
            raise CryptoConfigurationError(f"{INDEX_KEY_ENV} must be set when AIRCOP_PRODUCTION=1.")
        path = _local_dir(local_dir) / INDEX_KEY_FILE
        text = _load_or_create_local_secret(path, generate_index_key, "blind index key")
        return cls.parse(text, source=str(path))

    def __repr__(self) -> str:
        return "BlindIndexKey(<hidden>)"

    def _subkey(self, purpose: str) -> bytes:
        with self._lock:
            subkey = self._subkeys.get(purpose)
            if subkey is None:
                hkdf = HKDF(
                    algorithm=hashes.SHA256(),
                    length=KEY_SIZE,
                    salt=_INDEX_SALT,
                    info=purpose.encode("ascii"),
                )
                subkey = self._subkeys[purpose] = hkdf.derive(self._key)
            return subkey

    def index(self, token: str, *, purpose: str) -> str:
        """HMAC-SHA256 of ``token`` under the ``purpose`` key, as 64 hex characters."""
        if not _PURPOSE_RE.fullmatch(purpose):
            raise ValueError("purpose is 1-64 characters of a-z 0-9 _ . : - (e.g. 'document')")
        if not isinstance(token, str) or not token:
            raise ValueError("cannot index an empty token")
        return hmac.new(self._subkey(purpose), token.encode("utf-8"), hashlib.sha256).hexdigest()


# --- process-wide keys --------------------------------------------------------------

_cache_lock = threading.Lock()
_keyring: MasterKeyring | None = None
_index_key: BlindIndexKey | None = None


def get_keyring() -> MasterKeyring:
    """The process's master keyring, loaded once from the environment."""
    global _keyring
    with _cache_lock:
        if _keyring is None:
            _keyring = MasterKeyring.from_environment()
        return _keyring


def get_index_key() -> BlindIndexKey:
    """The process's blind index key, loaded once from the environment."""
    global _index_key
    with _cache_lock:
        if _index_key is None:
            _index_key = BlindIndexKey.from_environment()
        return _index_key


def reset_key_cache() -> None:
    """Forget the loaded keys (tests; a rotation command after changing the environment)."""
    global _keyring, _index_key
    with _cache_lock:
        _keyring = None
        _index_key = None


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


def _ring(keyring: MasterKeyring | None) -> MasterKeyring:
    return get_keyring() if keyring is None else keyring


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


# --- streams (attachments) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StreamHeader:
    version: int
    chunk_size: int
    key_id: str
    wrapped_key: bytes
    nonce_prefix: bytes

    def to_bytes(self) -> bytes:
        kid = self.key_id.encode("ascii")
        return b"".join(
            (
                STREAM_MAGIC,
                struct.pack(">BIB", self.version, self.chunk_size, len(kid)),
                kid,
                self.wrapped_key,
                self.nonce_prefix,
            )
        )


def _read_exact(src: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at end of input; never asks for more than ``size``."""
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        piece = src.read(missing)
        if piece is None:
            raise CryptoError("non-blocking source returned no data")
        if not piece:
            break
        parts.append(piece)
        missing -= len(piece)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_stream_header(src: BinaryIO) -> _StreamHeader:
    fixed = _read_exact(src, 9)
    if len(fixed) < 9:
        raise DecryptionError("encrypted file is truncated (incomplete header)")
    if fixed[:3] != STREAM_MAGIC:
        raise DecryptionError("not an aircop encrypted file")
    version, chunk_size, kid_len = struct.unpack(">BIB", fixed[3:])
    if version != STREAM_VERSION:
        raise DecryptionError(f"unsupported encrypted file version {version}")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE or not 1 <= kid_len <= _MAX_KEY_ID_LENGTH:
        raise DecryptionError("malformed encrypted file header")
    rest = _read_exact(src, kid_len + WRAPPED_KEY_SIZE + STREAM_PREFIX_SIZE)
    if len(rest) < kid_len + WRAPPED_KEY_SIZE + STREAM_PREFIX_SIZE:
        raise DecryptionError("encrypted file is truncated (incomplete header)")
    return _StreamHeader(
        version=version,
        chunk_size=chunk_size,
        key_id=_decode_key_id(rest[:kid_len]),
        wrapped_key=rest[kid_len : kid_len + WRAPPED_KEY_SIZE],
        nonce_prefix=rest[kid_len + WRAPPED_KEY_SIZE :],
    )


def _chunk_nonce(header: _StreamHeader, index: int) -> bytes:
    return header.nonce_prefix + struct.pack(">I", index)


def _chunk_aad(header: _StreamHeader, index: int, last: bool, aad: bytes) -> bytes:
    fields = struct.pack(">BIQB", header.version, header.chunk_size, index, last)
    return _CHUNK_LABEL + fields + aad


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    aad: BytesLike,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    keyring: MasterKeyring | None = None,
) -> int:
    """Encrypt ``src`` into ``dst`` chunk by chunk; returns the plaintext size.

    At most two chunks are held in memory and no read asks ``src`` for more
    than ``chunk_size`` bytes, whatever the size of the input.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError("chunk_size must be an int")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")
    aad = _check_aad(aad)
    data_key = AESGCM.generate_key(bit_length=256)
    key_id, wrapped = _wrap(_ring(keyring), data_key, kind=_STREAM, version=STREAM_VERSION, aad=aad)
    header = _StreamHeader(
        STREAM_VERSION, chunk_size, key_id, wrapped, os.urandom(STREAM_PREFIX_SIZE)
    )
    dst.write(header.to_bytes())
    aead = AESGCM(data_key)
    total = index = 0
    chunk = _read_exact(src, chunk_size)
    while True:
        following = _read_exact(src, chunk_size) if len(chunk) == chunk_size else b""
        last = not following
        if index >= _MAX_CHUNKS:
            raise CryptoError("file too large for its chunk size")
        nonce = _chunk_nonce(header, index)
        dst.write(aead.encrypt(nonce, chunk, _chunk_aad(header, index, last, aad)))
        total += len(chunk)
        if last:
            return total
        chunk, index = following, index + 1


def _decrypt_chunks(
    src: BinaryIO, header: _StreamHeader, aead: AESGCM, aad: bytes
) -> Iterator[bytes]:
    block_size = header.chunk_size + TAG_SIZE
    block = _read_exact(src, block_size)
    index = 0
    while True:
        if len(block) < TAG_SIZE:
            raise DecryptionError("encrypted file is truncated", key_id=header.key_id)
        if index >= _MAX_CHUNKS:
            raise DecryptionError("encrypted file has too many chunks", key_id=header.key_id)
        following = _read_exact(src, block_size) if len(block) == block_size else b""
        last = not following
        try:
            plaintext = aead.decrypt(
                _chunk_nonce(header, index), block, _chunk_aad(header, index, last, aad)
            )
        except InvalidTag:
            raise DecryptionError(
                f"chunk {index} failed authentication (tampered, truncated, reordered, "
                "or bound to another file)",
                key_id=header.key_id,
            ) from None
        yield plaintext
        if last:
            return
        block, index = following, index + 1


def decrypt_stream_chunks(
    src: BinaryIO, *, aad: BytesLike, keyring: MasterKeyring | None = None
) -> Iterator[bytes]:
    """Plaintext chunks of an encrypted file, for a streaming download.

    The header is read and the data key unwrapped *now* (errors raise before
    the first byte is sent); the chunks are then read lazily. Each chunk is
    authenticated before it is yielded, but a truncated file is only detected
    at its end, after the chunks before were yielded: a consumer must treat a
    ``DecryptionError`` while iterating as "abort", never as a complete file.
    """
    aad = _check_aad(aad)
    header = _read_stream_header(src)
    data_key = _unwrap(
        _ring(keyring),
        header.key_id,
        header.wrapped_key,
        kind=_STREAM,
        version=header.version,
        aad=aad,
    )
    return _decrypt_chunks(src, header, AESGCM(data_key), aad)


def decrypt_stream(
    src: BinaryIO, dst: BinaryIO, *, aad: BytesLike, keyring: MasterKeyring | None = None
) -> int:
    """Decrypt ``src`` into ``dst``; returns the plaintext size.

    On ``DecryptionError`` ``dst`` may hold a verified prefix of the file:
    write to a temporary destination and keep it only on success.
    """
    total = 0
    for piece in decrypt_stream_chunks(src, aad=aad, keyring=keyring):
        dst.write(piece)
        total += len(piece)
    return total


def stream_needs_rewrap(src: BinaryIO, *, keyring: MasterKeyring | None = None) -> bool:
    """Whether an encrypted file's header is under an older master key (reads the header)."""
    return _read_stream_header(src).key_id != _ring(keyring).current_key_id


def rewrap_stream_header(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    aad: BytesLike,
    keyring: MasterKeyring | None = None,
    copy_size: int = DEFAULT_CHUNK_SIZE,
) -> bool:
    """Copy an encrypted file to ``dst`` with its data key re-wrapped under the newest key.

    Only the header changes; the chunks are copied byte for byte (not
    decrypted). The binding to ``aad`` is verified. Returns whether the key
    changed (False: ``dst`` is an identical copy).
    """
    aad = _check_aad(aad)
    ring = _ring(keyring)
    header = _read_stream_header(src)
    data_key = _unwrap(
        ring, header.key_id, header.wrapped_key, kind=_STREAM, version=header.version, aad=aad
    )
    changed = header.key_id != ring.current_key_id
    if changed:
        key_id, wrapped = _wrap(ring, data_key, kind=_STREAM, version=header.version, aad=aad)
        header = replace(header, key_id=key_id, wrapped_key=wrapped)
    dst.write(header.to_bytes())
    while piece := src.read(copy_size):
        dst.write(piece)
    return changed


# --- blind indexes ------------------------------------------------------------------

TokenKind = Literal["name", "word", "document", "flight", "pnr", "identifier"]
_IDENTIFIER_KINDS: Final = frozenset({"document", "flight", "pnr", "identifier"})
# Letters NFKD does not decompose into a base letter plus accents.
_LETTER_FOLDS: Final = str.maketrans(
    {
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
    }
)
_MINUS_SIGN: Final = "\u2212"


def normalise_token(text: str, kind: TokenKind) -> str:
    """Normalise ``text`` so that equal tokens give equal blind indexes.

    ``name`` / ``word``: case-folded, accents removed (NFKD, combining marks
    dropped, a few letters such as ø and ł folded), whitespace collapsed to
    single spaces. ``document`` / ``flight`` / ``pnr`` / ``identifier``: NFKC,
    upper case, every space and dash removed (``"ab 12-34"`` -> ``"AB1234"``).
    """
    if kind in ("name", "word"):
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        bare = "".join(char for char in decomposed if not unicodedata.combining(char))
        return " ".join(bare.translate(_LETTER_FOLDS).split())
    if kind in _IDENTIFIER_KINDS:
        upper = unicodedata.normalize("NFKC", text).upper()
        return "".join(
            char
            for char in upper
            if not (char.isspace() or char == _MINUS_SIGN or unicodedata.category(char) == "Pd")
        )
    raise ValueError(f"unknown token kind {kind!r}")


def tokens(text: str) -> set[str]:
    """Keyword tokens of a text: its normalised words of at least two characters."""
    return {word for word in _WORD_RE.findall(normalise_token(text, "word")) if len(word) >= 2}


def blind_index(token: str, *, purpose: str, index_key: BlindIndexKey | None = None) -> str:
    """Keyed HMAC-SHA256 of an already normalised ``token`` (64 hex characters).

    ``purpose`` (e.g. ``"document"``, ``"flight"``, ``"name"``, ``"keyword"``)
    selects an independent HKDF-derived key, so equal tokens in different
    fields do not give equal indexes. Normalise first with ``normalise_token``.
    """
    return (get_index_key() if index_key is None else index_key).index(token, purpose=purpose)


def verify_blind_index(
    token: str, index: str, *, purpose: str, index_key: BlindIndexKey | None = None
) -> bool:
    """Constant-time check that ``index`` is the blind index of ``token``."""
    expected = blind_index(token, purpose=purpose, index_key=index_key)
    return hmac.compare_digest(expected.encode("ascii"), index.encode("utf-8"))


def keyword_indexes(
    text: str, *, purpose: str = "keyword", index_key: BlindIndexKey | None = None
) -> set[str]:
    """The blind indexes of every keyword token of ``text``."""
    return {blind_index(token, purpose=purpose, index_key=index_key) for token in tokens(text)}
