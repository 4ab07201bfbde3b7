"""Master keys and the blind-index key: from the environment or a local file."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ._common import (
    _INDEX_SALT,
    _KEY_ID_RE,
    _PURPOSE_RE,
    INDEX_KEY_ENV,
    INDEX_KEY_FILE,
    KEY_SIZE,
    MASTER_KEY_FILE,
    MASTER_KEYS_ENV,
    CryptoConfigurationError,
    UnknownKeyError,
    logger,
)

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


def _ring(keyring: MasterKeyring | None) -> MasterKeyring:
    return get_keyring() if keyring is None else keyring
