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

from ._common import (
    DEFAULT_CHUNK_SIZE,
    ENVELOPE_VERSION,
    INDEX_KEY_ENV,
    INDEX_KEY_FILE,
    MASTER_KEY_FILE,
    MASTER_KEYS_ENV,
    MAX_CHUNK_SIZE,
    NONCE_SIZE,
    STREAM_PREFIX_SIZE,
    TAG_SIZE,
    WRAPPED_KEY_SIZE,
    CryptoConfigurationError,
    CryptoError,
    DecryptionError,
    UnknownKeyError,
)
from .blind_index import blind_index, keyword_indexes, normalise_token, tokens, verify_blind_index
from .keys import (
    BlindIndexKey,
    MasterKeyring,
    generate_index_key,
    generate_master_key_entry,
    get_index_key,
    get_keyring,
    reset_key_cache,
)
from .records import (
    decrypt,
    decrypt_text,
    encrypt,
    encrypt_text,
    envelope_key_id,
    needs_rewrap,
    rewrap,
)
from .streams import (
    decrypt_stream,
    decrypt_stream_chunks,
    encrypt_stream,
    rewrap_stream_header,
    stream_needs_rewrap,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ENVELOPE_VERSION",
    "INDEX_KEY_ENV",
    "INDEX_KEY_FILE",
    "MASTER_KEYS_ENV",
    "MASTER_KEY_FILE",
    "MAX_CHUNK_SIZE",
    "NONCE_SIZE",
    "STREAM_PREFIX_SIZE",
    "TAG_SIZE",
    "WRAPPED_KEY_SIZE",
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
