"""aircop.crypto: envelopes, key rotation, streaming files, blind indexes (no database)."""

from __future__ import annotations

import base64
import io
import logging
import os
import stat
import tracemalloc

import pytest

from aircop import crypto
from aircop.crypto import (
    BlindIndexKey,
    CryptoConfigurationError,
    DecryptionError,
    MasterKeyring,
    UnknownKeyError,
)

AAD = b"messaging.message:6f1c2a:op-cocair"
OTHER_AAD = b"messaging.message:9b77e0:op-cocair"
KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
KEY_A_B64 = base64.b64encode(KEY_A).decode()
KEY_B_B64 = base64.b64encode(KEY_B).decode()
# The fixed part of a record envelope before the data ciphertext, for a 1-char key id.
RECORD_HEADER_1 = 2 + 1 + crypto.WRAPPED_KEY_SIZE + crypto.NONCE_SIZE


@pytest.fixture(autouse=True)
def _isolated_keys(monkeypatch, settings, tmp_path):
    """No key from the environment, local key files under tmp_path, no cached keys."""
    monkeypatch.delenv(crypto.MASTER_KEYS_ENV, raising=False)
    monkeypatch.delenv(crypto.INDEX_KEY_ENV, raising=False)
    settings.AIRCOP_LOCAL_DIR = tmp_path / "local"
    settings.PRODUCTION = False
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


@pytest.fixture
def ring_a() -> MasterKeyring:
    return MasterKeyring([("a", KEY_A)])


@pytest.fixture
def ring_ba() -> MasterKeyring:
    return MasterKeyring([("b", KEY_B), ("a", KEY_A)])


@pytest.fixture
def ring_b() -> MasterKeyring:
    return MasterKeyring([("b", KEY_B)])


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


# --- records ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext", [b"", b"x", b"cocaine in suitcase 2B", os.urandom(5000), bytes(20_000)]
)
def test_round_trip_bytes(ring_a, plaintext):
    envelope = crypto.encrypt(plaintext, aad=AAD, keyring=ring_a)
    assert crypto.decrypt(envelope, aad=AAD, keyring=ring_a) == plaintext
    if len(plaintext) >= 8:  # a byte or two can occur in random ciphertext by chance
        assert plaintext not in envelope


@pytest.mark.parametrize("text", ["", "a", "Zoë Ça ñandú — Москва — القاهرة — 東京 🛫"])
def test_round_trip_text(ring_a, text):
    envelope = crypto.encrypt_text(text, aad=AAD, keyring=ring_a)
    assert isinstance(envelope, str)
    assert set(envelope) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert crypto.decrypt_text(envelope, aad=AAD, keyring=ring_a) == text


def test_bytes_like_inputs(ring_a):
    """A BinaryField read from PostgreSQL is a memoryview."""
    envelope = crypto.encrypt(bytearray(b"abc"), aad=memoryview(AAD), keyring=ring_a)
    assert crypto.decrypt(memoryview(envelope), aad=AAD, keyring=ring_a) == b"abc"


def test_envelope_layout_and_fresh_randomness(ring_a):
    first = crypto.encrypt(b"same", aad=AAD, keyring=ring_a)
    second = crypto.encrypt(b"same", aad=AAD, keyring=ring_a)
    assert first[0] == crypto.ENVELOPE_VERSION
    assert first[1] == 1 and first[2:3] == b"a"
    assert len(first) == RECORD_HEADER_1 + len(b"same") + crypto.TAG_SIZE
    assert crypto.envelope_key_id(first) == "a"
    # A fresh data key (so a fresh wrapped key) and a fresh nonce every time.
    assert first[3 : 3 + crypto.WRAPPED_KEY_SIZE] != second[3 : 3 + crypto.WRAPPED_KEY_SIZE]
    nonce = slice(RECORD_HEADER_1 - crypto.NONCE_SIZE, RECORD_HEADER_1)
    assert first[nonce] != second[nonce]
    assert first != second


def test_default_keyring_from_environment(monkeypatch):
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"a:{KEY_A_B64}")
    envelope = crypto.encrypt(b"secret", aad=AAD)
    assert crypto.envelope_key_id(envelope) == "a"
    assert crypto.decrypt(envelope, aad=AAD, keyring=MasterKeyring([("a", KEY_A)])) == b"secret"


def test_tampering_any_single_byte_fails(ring_a):
    envelope = crypto.encrypt(b"seizure: 12 kg", aad=AAD, keyring=ring_a)
    for position in range(len(envelope)):
        with pytest.raises(DecryptionError):
            crypto.decrypt(flip(envelope, position), aad=AAD, keyring=ring_a)


def test_truncated_or_extended_envelope_fails(ring_a):
    envelope = crypto.encrypt(b"seizure: 12 kg", aad=AAD, keyring=ring_a)
    for cut in range(len(envelope)):
        with pytest.raises(DecryptionError):
            crypto.decrypt(envelope[:cut], aad=AAD, keyring=ring_a)
    with pytest.raises(DecryptionError):
        crypto.decrypt(envelope + b"\x00", aad=AAD, keyring=ring_a)


def test_tampered_text_fails(ring_a):
    envelope = crypto.encrypt_text("passport AB123456", aad=AAD, keyring=ring_a)
    for position in range(len(envelope)):
        replacement = "A" if envelope[position] != "A" else "B"
        tampered = envelope[:position] + replacement + envelope[position + 1 :]
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(tampered, aad=AAD, keyring=ring_a)
    for bad in (envelope + "=", envelope + "!", envelope[:-1] + "+", " " + envelope):
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(bad, aad=AAD, keyring=ring_a)


def test_swapping_ciphertexts_between_records_fails(ring_a):
    first = crypto.encrypt(b"first record", aad=AAD, keyring=ring_a)
    second = crypto.encrypt(b"second record", aad=OTHER_AAD, keyring=ring_a)
    with pytest.raises(DecryptionError):
        crypto.decrypt(first, aad=OTHER_AAD, keyring=ring_a)
    with pytest.raises(DecryptionError):
        crypto.decrypt(second, aad=AAD, keyring=ring_a)
    # Keeping a row's wrapped key but pasting in another row's data fails too.
    spliced = first[:RECORD_HEADER_1] + second[RECORD_HEADER_1:]
    with pytest.raises(DecryptionError):
        crypto.decrypt(spliced, aad=AAD, keyring=ring_a)


def test_aad_is_required(ring_a):
    with pytest.raises(ValueError, match="aad"):
        crypto.encrypt(b"x", aad=b"", keyring=ring_a)
    with pytest.raises(TypeError, match="aad"):
        crypto.encrypt(b"x", aad="messaging.message:1", keyring=ring_a)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.encrypt("text", aad=AAD, keyring=ring_a)  # type: ignore[arg-type]


def test_unknown_key_id_is_named(ring_a, ring_b):
    envelope = crypto.encrypt(b"x", aad=AAD, keyring=ring_a)
    with pytest.raises(UnknownKeyError, match="'a'") as caught:
        crypto.decrypt(envelope, aad=AAD, keyring=ring_b)
    assert isinstance(caught.value, DecryptionError)
    assert caught.value.key_id == "a"
    assert KEY_A_B64 not in str(caught.value) and KEY_B_B64 not in str(caught.value)


def test_rotation_rewrap(ring_a, ring_ba, ring_b):
    envelope = crypto.encrypt(b"old secret", aad=AAD, keyring=ring_a)
    assert not crypto.needs_rewrap(envelope, keyring=ring_a)
    assert crypto.needs_rewrap(envelope, keyring=ring_ba)
    # Before rewrap, both keys are needed; the newest key alone cannot open it.
    with pytest.raises(UnknownKeyError):
        crypto.decrypt(envelope, aad=AAD, keyring=ring_b)

    rewrapped = crypto.rewrap(envelope, aad=AAD, keyring=ring_ba)
    assert crypto.envelope_key_id(rewrapped) == "b"
    assert not crypto.needs_rewrap(rewrapped, keyring=ring_ba)
    assert crypto.decrypt(rewrapped, aad=AAD, keyring=ring_b) == b"old secret"
    # Only the key id and wrapped key changed: the data nonce and ciphertext are the same.
    assert rewrapped[-(12 + len(b"old secret") + 16) :] == envelope[-(12 + 10 + 16) :]
    # Idempotent under the newest key.
    assert crypto.rewrap(rewrapped, aad=AAD, keyring=ring_ba) == rewrapped
    assert crypto.rewrap(rewrapped, aad=AAD, keyring=ring_b) == rewrapped


def test_rewrap_checks_the_binding(ring_a, ring_ba):
    envelope = crypto.encrypt(b"x", aad=AAD, keyring=ring_a)
    with pytest.raises(DecryptionError):
        crypto.rewrap(envelope, aad=OTHER_AAD, keyring=ring_ba)
    with pytest.raises(DecryptionError):
        crypto.rewrap(envelope, aad=OTHER_AAD, keyring=ring_a)
    with pytest.raises(DecryptionError):
        crypto.rewrap(flip(envelope, 10), aad=AAD, keyring=ring_ba)


def test_rotation_rewrap_text(ring_a, ring_ba, ring_b):
    envelope = crypto.encrypt_text("Ça va", aad=AAD, keyring=ring_a)
    assert crypto.needs_rewrap(envelope, keyring=ring_ba)
    rewrapped = crypto.rewrap(envelope, aad=AAD, keyring=ring_ba)
    assert isinstance(rewrapped, str)
    assert not crypto.needs_rewrap(rewrapped, keyring=ring_ba)
    assert crypto.decrypt_text(rewrapped, aad=AAD, keyring=ring_b) == "Ça va"


def test_rotation_through_the_environment(monkeypatch):
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"a:{KEY_A_B64}")
    envelope = crypto.encrypt(b"payload", aad=AAD)
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"b:{KEY_B_B64}, a:{KEY_A_B64}")
    crypto.reset_key_cache()
    assert crypto.needs_rewrap(envelope)
    rewrapped = crypto.rewrap(envelope, aad=AAD)
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"b:{KEY_B_B64}")
    crypto.reset_key_cache()
    assert crypto.decrypt(rewrapped, aad=AAD) == b"payload"
    assert not crypto.needs_rewrap(rewrapped)


# --- keyring configuration ----------------------------------------------------------


def test_keyring_parse_newest_first():
    urlsafe_a = base64.urlsafe_b64encode(KEY_A).decode()
    ring = MasterKeyring.parse(f" k2026b:{KEY_B_B64} ,k2025a:{urlsafe_a}")
    assert ring.key_ids == ("k2026b", "k2025a")
    assert ring.current_key_id == "k2026b"
    assert "k2025a" in ring and len(ring) == 2
    assert KEY_B_B64 not in repr(ring)


def test_keyring_accepts_unpadded_and_urlsafe_base64():
    unpadded = base64.urlsafe_b64encode(KEY_A).decode().rstrip("=")
    assert MasterKeyring.parse(f"a:{unpadded}").current_key_id == "a"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "entry 1 is empty"),
        (f"a:{KEY_A_B64},", "entry 2 is empty"),
        (KEY_A_B64, "not of the form"),
        (f":{KEY_A_B64}", "invalid key id"),
        (f"bad id:{KEY_A_B64}", "invalid key id"),
        (f"{'x' * 33}:{KEY_A_B64}", "invalid key id"),
        ("a:not*base64", "'a'.*not base64 of 32 bytes"),
        (f"a:{base64.b64encode(bytes(16)).decode()}", "not base64 of 32 bytes"),
        (f"a:{base64.b64encode(bytes(33)).decode()}", "not base64 of 32 bytes"),
        (f"a:{KEY_A_B64},a:{KEY_B_B64}", "duplicate key id 'a'"),
    ],
)
def test_keyring_malformed_entries(value, message):
    with pytest.raises(CryptoConfigurationError, match=message) as caught:
        MasterKeyring.parse(value)
    assert KEY_A_B64 not in str(caught.value) and KEY_B_B64 not in str(caught.value)


def test_keyring_constructor_checks():
    with pytest.raises(CryptoConfigurationError):
        MasterKeyring([])
    with pytest.raises(CryptoConfigurationError, match="duplicate"):
        MasterKeyring([("a", KEY_A), ("a", KEY_B)])
    with pytest.raises(CryptoConfigurationError, match="32 bytes"):
        MasterKeyring([("a", bytes(16))])


def test_malformed_environment_raises(monkeypatch):
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, "a:short")
    with pytest.raises(CryptoConfigurationError, match=crypto.MASTER_KEYS_ENV):
        crypto.encrypt(b"x", aad=AAD)


def test_configuration_error_is_improperly_configured():
    from django.core.exceptions import ImproperlyConfigured

    assert issubclass(CryptoConfigurationError, ImproperlyConfigured)


def test_environment_keys_create_no_local_file(monkeypatch, tmp_path):
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"a:{KEY_A_B64}")
    assert crypto.get_keyring().key_ids == ("a",)
    assert not (tmp_path / "local").exists()


def test_embedded_default_master_key_file(tmp_path, caplog):
    path = tmp_path / "local" / crypto.MASTER_KEY_FILE
    with caplog.at_level(logging.WARNING, logger="aircop.crypto"):
        envelope = crypto.encrypt(b"local data", aad=AAD)
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert any(r.levelno == logging.WARNING and "Generated" in r.message for r in caplog.records)
    content = path.read_text()
    key_id = content.split(":", 1)[0]
    assert key_id.startswith("local-")
    assert content.split(":", 1)[1].strip() not in caplog.text
    assert not list(path.parent.glob(f".{path.name}.*"))  # no temporary file left behind

    # A new process (reset cache) reuses the same file and key.
    crypto.reset_key_cache()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aircop.crypto"):
        assert crypto.get_keyring().key_ids == (key_id,)
    assert path.read_text() == content
    assert any("Using the local master key" in r.message for r in caplog.records)
    assert crypto.decrypt(envelope, aad=AAD) == b"local data"


def test_embedded_default_explicit_local_dir(tmp_path):
    first = MasterKeyring.from_environment(environ={}, local_dir=tmp_path / "x", production=False)
    second = MasterKeyring.from_environment(environ={}, local_dir=tmp_path / "x", production=False)
    assert first.key_ids == second.key_ids
    other = MasterKeyring.from_environment(environ={}, local_dir=tmp_path / "y", production=False)
    assert other.key_ids != first.key_ids


def test_production_without_master_keys_raises(settings, tmp_path):
    settings.PRODUCTION = True
    with pytest.raises(CryptoConfigurationError, match=crypto.MASTER_KEYS_ENV):
        crypto.encrypt(b"x", aad=AAD)
    assert not (tmp_path / "local").exists()


def test_production_without_index_key_raises(settings, monkeypatch):
    settings.PRODUCTION = True
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"a:{KEY_A_B64}")
    crypto.encrypt(b"x", aad=AAD)  # master keys are set: fine
    with pytest.raises(CryptoConfigurationError, match=crypto.INDEX_KEY_ENV):
        crypto.blind_index("AB123", purpose="document")


# --- streams ------------------------------------------------------------------------

CHUNK = 16
STREAM_AAD = b"messaging.attachment:41:op-cocair"


def stream_encrypt(data: bytes, keyring: MasterKeyring, *, chunk_size: int = CHUNK) -> bytes:
    out = io.BytesIO()
    size = crypto.encrypt_stream(
        io.BytesIO(data), out, aad=STREAM_AAD, chunk_size=chunk_size, keyring=keyring
    )
    assert size == len(data)
    return out.getvalue()


def stream_decrypt(blob: bytes, keyring: MasterKeyring, *, aad: bytes = STREAM_AAD) -> bytes:
    out = io.BytesIO()
    size = crypto.decrypt_stream(io.BytesIO(blob), out, aad=aad, keyring=keyring)
    assert size == len(out.getvalue())
    return out.getvalue()


def stream_header_size(key_id: str = "a") -> int:
    return 9 + len(key_id) + crypto.WRAPPED_KEY_SIZE + crypto.STREAM_PREFIX_SIZE


def split_chunks(blob: bytes, chunk_size: int = CHUNK) -> tuple[bytes, list[bytes]]:
    header_size = stream_header_size()
    body = blob[header_size:]
    step = chunk_size + crypto.TAG_SIZE
    return blob[:header_size], [body[i : i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize(
    ("size", "chunks"),
    [(0, 1), (1, 1), (CHUNK, 1), (2 * CHUNK, 2), (3 * CHUNK + 5, 4), (10 * CHUNK - 1, 10)],
)
def test_stream_round_trip(ring_a, size, chunks):
    data = os.urandom(size)
    blob = stream_encrypt(data, ring_a)
    assert blob[:4] == b"ACS\x01"
    assert len(blob) == stream_header_size() + size + chunks * crypto.TAG_SIZE
    assert len(split_chunks(blob)[1]) == chunks
    assert stream_decrypt(blob, ring_a) == data
    pieces = list(crypto.decrypt_stream_chunks(io.BytesIO(blob), aad=STREAM_AAD, keyring=ring_a))
    assert len(pieces) == chunks
    assert all(len(piece) <= CHUNK for piece in pieces)
    assert b"".join(pieces) == data


def test_stream_default_chunk_size(ring_a):
    data = os.urandom(crypto.DEFAULT_CHUNK_SIZE * 2 + 3)
    out = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(data), out, aad=STREAM_AAD, keyring=ring_a)
    assert stream_decrypt(out.getvalue(), ring_a) == data


class TricklePipe(io.RawIOBase):
    """A pipe that returns at most 5 bytes per read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 5) if size >= 0 else 5)


def test_stream_short_reads(ring_a):
    data = os.urandom(5 * CHUNK + 3)
    out = io.BytesIO()
    crypto.encrypt_stream(TricklePipe(data), out, aad=STREAM_AAD, chunk_size=CHUNK, keyring=ring_a)
    assert stream_decrypt(out.getvalue(), ring_a) == data
    plain = io.BytesIO()
    crypto.decrypt_stream(TricklePipe(out.getvalue()), plain, aad=STREAM_AAD, keyring=ring_a)
    assert plain.getvalue() == data


@pytest.mark.parametrize("size", [0, 1, 3 * CHUNK + 5])
def test_stream_wrong_aad_fails(ring_a, size):
    blob = stream_encrypt(os.urandom(size), ring_a)
    with pytest.raises(DecryptionError):
        stream_decrypt(blob, ring_a, aad=b"messaging.attachment:42:op-cocair")


def test_stream_truncation_fails(ring_a):
    blob = stream_encrypt(os.urandom(3 * CHUNK + 5), ring_a)
    header, chunks = split_chunks(blob)
    with pytest.raises(DecryptionError):  # drop the last chunk
        stream_decrypt(header + b"".join(chunks[:-1]), ring_a)
    with pytest.raises(DecryptionError):  # header only
        stream_decrypt(header, ring_a)
    for cut in range(len(blob)):  # any truncation at all
        with pytest.raises(DecryptionError):
            stream_decrypt(blob[:cut], ring_a)


def test_stream_truncation_of_exact_multiple_fails(ring_a):
    blob = stream_encrypt(os.urandom(3 * CHUNK), ring_a)
    header, chunks = split_chunks(blob)
    assert len(chunks) == 3
    with pytest.raises(DecryptionError):
        stream_decrypt(header + chunks[0] + chunks[1], ring_a)


def test_stream_reordering_fails(ring_a):
    blob = stream_encrypt(os.urandom(4 * CHUNK), ring_a)
    header, chunks = split_chunks(blob)
    with pytest.raises(DecryptionError, match="chunk 0"):
        stream_decrypt(header + chunks[1] + chunks[0] + chunks[2] + chunks[3], ring_a)


def test_stream_duplication_fails(ring_a):
    blob = stream_encrypt(os.urandom(3 * CHUNK + 5), ring_a)
    header, chunks = split_chunks(blob)
    with pytest.raises(DecryptionError):
        stream_decrypt(header + chunks[0] + chunks[0] + chunks[1] + chunks[2] + chunks[3], ring_a)
    with pytest.raises(DecryptionError):
        stream_decrypt(header + chunks[0] + chunks[1] + chunks[1] + chunks[2] + chunks[3], ring_a)


@pytest.mark.parametrize("size", [0, CHUNK, 3 * CHUNK + 5])
def test_stream_appending_fails(ring_a, size):
    blob = stream_encrypt(os.urandom(size), ring_a)
    chunks = split_chunks(blob)[1]
    other = split_chunks(stream_encrypt(os.urandom(size), ring_a))[1]
    for extra in (chunks[0], chunks[-1], other[-1], b"\x00" * (CHUNK + crypto.TAG_SIZE), b"\x00"):
        with pytest.raises(DecryptionError):
            stream_decrypt(blob + extra, ring_a)


@pytest.mark.parametrize("size", [0, 2 * CHUNK + 3])
def test_stream_flipping_any_byte_fails(ring_a, size):
    blob = stream_encrypt(os.urandom(size), ring_a)
    for position in range(len(blob)):
        with pytest.raises(DecryptionError):
            stream_decrypt(flip(blob, position), ring_a)


def test_stream_chunks_from_another_file_fail(ring_a):
    first = split_chunks(stream_encrypt(os.urandom(2 * CHUNK), ring_a))
    second = split_chunks(stream_encrypt(os.urandom(2 * CHUNK), ring_a))
    with pytest.raises(DecryptionError):
        stream_decrypt(first[0] + first[1][0] + second[1][1], ring_a)


def test_stream_unknown_key_raises_before_streaming(ring_a, ring_b):
    blob = stream_encrypt(b"attachment", ring_a)
    with pytest.raises(UnknownKeyError, match="'a'"):
        crypto.decrypt_stream_chunks(io.BytesIO(blob), aad=STREAM_AAD, keyring=ring_b)


def test_stream_rejects_other_input(ring_a):
    envelope = crypto.encrypt(b"record", aad=STREAM_AAD, keyring=ring_a)
    with pytest.raises(DecryptionError, match="not an aircop encrypted file"):
        stream_decrypt(envelope, ring_a)
    with pytest.raises(ValueError):
        stream_encrypt(b"x", ring_a, chunk_size=0)


class CountingSource(io.RawIOBase):
    """A pipe-like source of ``total`` bytes that records every read size asked for."""

    def __init__(self, total: int) -> None:
        self.remaining = total
        self.requests: list[int] = []
        self._pattern = os.urandom(256 * 1024)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.requests.append(size)
        if size is None or size < 0:
            raise AssertionError("read() of the whole input")
        size = min(size, self.remaining, len(self._pattern))
        self.remaining -= size
        return self._pattern[:size]


class CountingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.written = 0
        self.largest = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.written += len(data)
        self.largest = max(self.largest, len(data))
        return len(data)


def test_encrypt_stream_of_25_mb_reads_at_most_a_chunk_at_a_time(ring_a):
    total = 25 * 1024 * 1024
    chunk_size = crypto.DEFAULT_CHUNK_SIZE
    source, sink = CountingSource(total), CountingSink()
    tracemalloc.start()
    try:
        size = crypto.encrypt_stream(
            source, sink, aad=STREAM_AAD, chunk_size=chunk_size, keyring=ring_a
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == total
    assert source.remaining == 0
    assert max(source.requests) <= chunk_size
    assert len(source.requests) <= total // chunk_size + 2
    assert sink.largest <= chunk_size + crypto.TAG_SIZE + stream_header_size()
    chunks = total // chunk_size
    assert sink.written == stream_header_size() + total + chunks * crypto.TAG_SIZE
    assert peak < 2 * 1024 * 1024  # a few chunks, never the whole file


def test_decrypt_stream_reads_at_most_a_block_at_a_time(ring_a):
    data = os.urandom(20 * CHUNK + 7)
    blob = stream_encrypt(data, ring_a)
    requests: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            requests.append(-1 if size is None else size)
            return super().read(size)

    pieces = crypto.decrypt_stream_chunks(Recording(blob), aad=STREAM_AAD, keyring=ring_a)
    assert b"".join(pieces) == data
    header_reads, chunk_reads = requests[:2], requests[2:]
    assert sum(header_reads) == stream_header_size()
    assert 0 < max(chunk_reads) <= CHUNK + crypto.TAG_SIZE


def test_rewrap_stream_header(ring_a, ring_ba, ring_b):
    data = os.urandom(5 * CHUNK + 1)
    blob = stream_encrypt(data, ring_a)
    assert crypto.stream_needs_rewrap(io.BytesIO(blob), keyring=ring_ba)
    assert not crypto.stream_needs_rewrap(io.BytesIO(blob), keyring=ring_a)

    out = io.BytesIO()
    assert crypto.rewrap_stream_header(io.BytesIO(blob), out, aad=STREAM_AAD, keyring=ring_ba)
    rewrapped = out.getvalue()
    header_size = stream_header_size()
    assert rewrapped[header_size:] == blob[header_size:]  # chunks untouched
    assert rewrapped[header_size - 8 : header_size] == blob[header_size - 8 : header_size]
    assert rewrapped[:header_size] != blob[:header_size]
    assert not crypto.stream_needs_rewrap(io.BytesIO(rewrapped), keyring=ring_ba)
    assert stream_decrypt(rewrapped, ring_b) == data

    again = io.BytesIO()
    assert not crypto.rewrap_stream_header(
        io.BytesIO(rewrapped), again, aad=STREAM_AAD, keyring=ring_ba
    )
    assert again.getvalue() == rewrapped  # idempotent

    with pytest.raises(DecryptionError):
        crypto.rewrap_stream_header(
            io.BytesIO(blob), io.BytesIO(), aad=b"messaging.attachment:x", keyring=ring_ba
        )


# --- blind indexes ------------------------------------------------------------------

INDEX_KEY = BlindIndexKey(bytes(range(100, 132)))


def test_blind_index_deterministic_and_per_purpose():
    first = crypto.blind_index("AB123456", purpose="document", index_key=INDEX_KEY)
    assert first == crypto.blind_index("AB123456", purpose="document", index_key=INDEX_KEY)
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != crypto.blind_index("AB123456", purpose="flight", index_key=INDEX_KEY)
    assert first != crypto.blind_index("AB123457", purpose="document", index_key=INDEX_KEY)
    other_key = BlindIndexKey(bytes(32))
    assert first != crypto.blind_index("AB123456", purpose="document", index_key=other_key)
    assert "AB123456" not in first
    assert crypto.verify_blind_index("AB123456", first, purpose="document", index_key=INDEX_KEY)
    assert not crypto.verify_blind_index("AB12345", first, purpose="document", index_key=INDEX_KEY)


def test_blind_index_rejects_empty_token_and_bad_purpose():
    with pytest.raises(ValueError):
        crypto.blind_index("", purpose="document", index_key=INDEX_KEY)
    for purpose in ("", "Document", "has space", "x" * 65):
        with pytest.raises(ValueError):
            crypto.blind_index("AB1", purpose=purpose, index_key=INDEX_KEY)


def test_blind_index_survives_master_key_rotation(monkeypatch):
    monkeypatch.setenv(crypto.INDEX_KEY_ENV, base64.b64encode(bytes(range(32))).decode())
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"a:{KEY_A_B64}")
    before = crypto.blind_index("PNR123", purpose="pnr")
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"b:{KEY_B_B64},a:{KEY_A_B64}")
    crypto.reset_key_cache()
    assert crypto.get_keyring().current_key_id == "b"
    assert crypto.blind_index("PNR123", purpose="pnr") == before


def test_index_key_embedded_default_file(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="aircop.crypto"):
        first = crypto.blind_index("AB1", purpose="document")
    path = tmp_path / "local" / crypto.INDEX_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "blind index key" in caplog.text
    assert path.read_text().strip() not in caplog.text
    content = path.read_text()
    crypto.reset_key_cache()
    assert crypto.blind_index("AB1", purpose="document") == first
    assert path.read_text() == content
    # Independent of the master key file.
    crypto.get_keyring()
    assert (tmp_path / "local" / crypto.MASTER_KEY_FILE).read_text() != content


def test_malformed_index_key_raises(monkeypatch):
    monkeypatch.setenv(crypto.INDEX_KEY_ENV, "tooshort")
    with pytest.raises(CryptoConfigurationError, match=crypto.INDEX_KEY_ENV):
        crypto.blind_index("AB1", purpose="document")


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("  José   María\tGÓMEZ ", "name", "jose maria gomez"),
        ("Zoë Ñúñez", "name", "zoe nunez"),
        ("STRAßE", "name", "strasse"),
        ("Søren Łukasz", "name", "soren lukasz"),
        ("İbrahim", "name", "ibrahim"),
        ("Ёлкин", "name", "елкин"),
        ("ab 12-34 56", "document", "AB123456"),
        ("ａｂ１２３", "document", "AB123"),
        ("af – 0123", "flight", "AF0123"),
        ("x7k-9qz", "pnr", "X7K9QZ"),
    ],
)
def test_normalise_token(text, kind, expected):
    assert crypto.normalise_token(text, kind) == expected


def test_normalised_names_share_a_blind_index():
    one = crypto.normalise_token("JOSÉ  Gómez", "name")
    two = crypto.normalise_token("jose gomez", "name")
    assert crypto.blind_index(one, purpose="name", index_key=INDEX_KEY) == crypto.blind_index(
        two, purpose="name", index_key=INDEX_KEY
    )
    doc_one = crypto.normalise_token("AB 123-456", "document")
    doc_two = crypto.normalise_token("ab123456", "document")
    assert crypto.blind_index(doc_one, purpose="document", index_key=INDEX_KEY) == (
        crypto.blind_index(doc_two, purpose="document", index_key=INDEX_KEY)
    )


def test_normalise_token_unknown_kind():
    with pytest.raises(ValueError):
        crypto.normalise_token("x", "colour")  # type: ignore[arg-type]


def test_tokens():
    text = "Passenger José GÓMEZ, flight AF-0123 à CDG: 2 valises (cocaïne) a b_c"
    assert crypto.tokens(text) == {
        "passenger",
        "jose",
        "gomez",
        "flight",
        "af",
        "0123",
        "cdg",
        "valises",
        "cocaine",
    }
    assert crypto.tokens("") == set()
    assert crypto.tokens("القهوة و الشاي") == {"القهوة", "الشاي"}


def test_keyword_indexes():
    indexes = crypto.keyword_indexes("Cocaïne COCAINE cocaine bag", index_key=INDEX_KEY)
    assert indexes == {
        crypto.blind_index("cocaine", purpose="keyword", index_key=INDEX_KEY),
        crypto.blind_index("bag", purpose="keyword", index_key=INDEX_KEY),
    }
