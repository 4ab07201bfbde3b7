"""Model instances from the rows of a hand-written query, for the hottest reads.

Every API request authenticates (its token and user) and most check the operation of their path
(the membership and its operation). Through the ORM those two reads cost about 3 ms of CPU per
request, most of it building and compiling the query; written once in SQL they cost a fifth of
that (docs/performance.md, "Fourth round"). A query written here selects each model's columns
with ``columns`` (every concrete field, in the model's order) and turns its rows back into
instances with ``instances``, converting each value as the ORM would (an encrypted field's
envelope is kept as a ciphertext, decrypted when read; a date read from SQLite becomes an aware
datetime), so the instances are those the ORM would have built.
"""

from __future__ import annotations

from functools import cache

from django.db import connections
from django.db.models import Model


def columns(model: type[Model], alias: str) -> str:
    """The model's columns, in its concrete fields' order, qualified by the table's ``alias``."""
    quote = connections["default"].ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def instances(row, models: tuple[type[Model], ...], *, using: str = "default") -> list[Model]:
    """One instance per model, from a row whose columns are ``columns(model, ...)`` of each in
    turn."""
    connection = connections[using]
    built, start = [], 0
    for model in models:
        attnames, converters = _loading(model, using)
        values = list(row[start : start + len(attnames)])
        for index, convert, column in converters:
            values[index] = convert(values[index], column, connection)
        built.append(model.from_db(using, attnames, values))
        start += len(attnames)
    return built


@cache
def _loading(model: type[Model], using: str):
    """The model's field names, and the converters the ORM applies to its columns (per field,
    the backend's, then the field's own), as ``(position, converter, column)`` in order."""
    connection = connections[using]
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters += [(index, convert, column) for convert in found]
    return [field.attname for field in fields], converters
