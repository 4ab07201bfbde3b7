"""File streams (attachments): chunked, authenticated, never whole in memory."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._common import (
    _CHUNK_LABEL,
    _MAX_CHUNKS,
    _MAX_KEY_ID_LENGTH,
    _STREAM,
    DEFAULT_CHUNK_SIZE,
    MAX_CHUNK_SIZE,
    STREAM_MAGIC,
    STREAM_PREFIX_SIZE,
    STREAM_VERSION,
    TAG_SIZE,
    WRAPPED_KEY_SIZE,
    BytesLike,
    CryptoError,
    DecryptionError,
    _check_aad,
    _decode_key_id,
    _unwrap,
    _wrap,
)
from .keys import MasterKeyring, _ring

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
