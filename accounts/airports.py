"""The IATA airport list shipped with the project (``data/airports.csv``).

Codes are language-neutral; the airport's name and city are proper nouns and
its country displays in the reader's language through django-countries.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "airports.csv"


@dataclass(frozen=True, slots=True)
class Airport:
    iata: str
    name: str
    city: str
    country: str  # ISO 3166-1 alpha-2

    def __str__(self) -> str:
        return f"{self.iata} – {self.city} ({self.name})"


@cache
def airports() -> dict[str, Airport]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["iata"]: Airport(**row) for row in csv.DictReader(handle)}


def airport_choices() -> list[tuple[str, str]]:
    return [(code, str(airport)) for code, airport in sorted(airports().items())]


def airport(code: str) -> Airport | None:
    return airports().get(code)
