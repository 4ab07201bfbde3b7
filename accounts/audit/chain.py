"""The audit trail's hash chain: the canonical form of an event, its hash, and the walk that
checks a chain.

Pure functions, no models: the migration that chains existing rows uses them too. The canonical
form must never change (every stored hash depends on it); a new form would need a version field.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
# The advisory-lock key that serialises appends on PostgreSQL (any constant bigint; "audit").
CHAIN_LOCK_KEY = int.from_bytes(b"aircopAU", "big") & 0x7FFF_FFFF_FFFF_FFFF


def normalised_data(value: Any) -> Any:
    """The event's data as it will read back from a JSON column, so that the hash computed at
    append time is the one recomputed later. Floats become strings: PostgreSQL's jsonb rewrites
    some of them (1e+20 reads back as an integer), and an audit needs no arithmetic."""
    if isinstance(value, dict):
        return {str(k): normalised_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalised_data(v) for v in value]
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"audit data holds JSON values only, not {type(value).__name__}")


def created_at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_form(
    *,
    sequence: int,
    prev_hash: str,
    actor_id: int | None,
    operation_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    data: Any,
    created_at: datetime,
) -> bytes:
    """Sorted-keys, compact JSON (UTF-8) of everything an event says."""
    return json.dumps(
        {
            "sequence": sequence,
            "prev_hash": prev_hash,
            "actor_id": actor_id,
            "operation_id": operation_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
            "created_at": created_at_text(created_at),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def event_hash(**fields: Any) -> str:
    """SHA-256 (hex) of the canonical form of an event's fields."""
    return hashlib.sha256(canonical_form(**fields)).hexdigest()


# The columns a chain walk reads, in this order.
CHAIN_COLUMNS = (
    "sequence",
    "prev_hash",
    "hash",
    "actor_id",
    "operation_id",
    "action",
    "object_type",
    "object_id",
    "data",
    "created_at",
)


@dataclass(frozen=True)
class ChainBreak:
    kind: str  # "altered", "inserted" or "deleted"
    sequence: int  # the first event concerned
    detail: str


@dataclass(frozen=True)
class ChainReport:
    verified: int  # events checked and found sound, up to the first break
    head_sequence: int
    head_hash: str
    problem: ChainBreak | None

    @property
    def sound(self) -> bool:
        return self.problem is None


def verify_chain(rows: Iterable[tuple]) -> ChainReport:
    """Walk rows of ``CHAIN_COLUMNS`` in sequence order; stop at the first break.

    - a gap in the sequence numbers: events were deleted;
    - an event whose link (previous hash) is not the hash of the event before it: an event was
      inserted there (or the one before was replaced);
    - an event whose content does not give its stored hash: it was altered.
    """
    expected_sequence, expected_prev = 1, GENESIS_HASH
    previous_prev_hash = None
    verified = 0
    head_sequence, head_hash = 0, GENESIS_HASH
    for row in rows:
        fields = dict(zip(CHAIN_COLUMNS, row, strict=True))
        sequence, stored_hash = fields.pop("sequence"), fields.pop("hash")
        problem = None
        if sequence > expected_sequence:
            missing = (
                str(expected_sequence)
                if sequence == expected_sequence + 1
                else f"{expected_sequence}–{sequence - 1}"
            )
            problem = ChainBreak("deleted", expected_sequence, f"event(s) {missing} missing")
        elif sequence < expected_sequence:
            problem = ChainBreak(
                "inserted", sequence, f"event {sequence} appears twice in the sequence"
            )
        elif fields["prev_hash"] != expected_prev:
            if previous_prev_hash is not None and fields["prev_hash"] == previous_prev_hash:
                # the event before this one passed its own checks, but it is the intruder
                verified, head_sequence = verified - 1, sequence - 2
                head_hash = fields["prev_hash"]
                problem = ChainBreak(
                    "inserted",
                    sequence - 1,
                    f"event {sequence - 1} was inserted: event {sequence} links to the event "
                    f"before it",
                )
            else:
                problem = ChainBreak(
                    "inserted",
                    sequence,
                    f"it does not link to event {sequence - 1}: "
                    f"inserted, or put in the place of another",
                )
        elif event_hash(sequence=sequence, **fields) != stored_hash:
            problem = ChainBreak("altered", sequence, "its content no longer gives its hash")
        if problem is not None:
            return ChainReport(verified, head_sequence, head_hash, problem)
        verified += 1
        head_sequence, head_hash = sequence, stored_hash
        previous_prev_hash = fields["prev_hash"]
        expected_sequence, expected_prev = sequence + 1, stored_hash
    return ChainReport(verified, head_sequence, head_hash, None)
