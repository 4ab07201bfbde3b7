"""Blind indexes: keyed HMAC of normalised tokens, for searching encrypted text."""

from __future__ import annotations

import hmac
import unicodedata
from typing import Final, Literal

from ._common import _WORD_RE
from .keys import BlindIndexKey, get_index_key

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
