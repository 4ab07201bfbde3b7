"""Model fields encrypted at rest with ``aircop.crypto`` (envelope encryption, AES-256-GCM).

``EncryptedTextField`` stores the base64url envelope of the text in a text column;
``EncryptedDateField`` stores the envelope of the ISO date (``YYYY-MM-DD``) and exposes a
``datetime.date`` (or ``None``).

Associated data
    Each field takes ``aad``, a callable ``aad(instance) -> bytes`` giving the row's
    identity (e.g. ``b"messaging.message:<uid>:<operation_id>"``), bound to the ciphertext:
    an envelope copied into another row, or another field's column, does not decrypt
    (``crypto.DecryptionError``), it never yields the other row's text. The field name is
    appended to the identity, so two fields of one row are not interchangeable either.

Life of a value
    * Loaded from the database: ``from_db_value`` wraps the envelope as a ``Ciphertext``
      (a ``str`` subclass); nothing is decrypted yet.
    * Read: the descriptor decrypts on first access with the instance's associated data
      and caches the plaintext on the instance.
    * Assigned: the plaintext is kept on the instance as it is.
    * Saved: ``pre_save(instance, add)`` encrypts the current plaintext under the newest
      master key with the instance's associated data (the instance is known there, so it
      also works for ``bulk_create``). Only values produced there (or ``Ciphertext``
      envelopes, for migrations and key rotation) reach the database:
      ``get_db_prep_save`` refuses anything else, so ``QuerySet.update(body="...")`` cannot
      write plaintext by mistake.

Empty values
    The empty string is stored as ``""`` (and ``None`` as ``NULL`` for a nullable field),
    not encrypted: that reveals only that an optional field is empty, which the rest of
    the row mostly shows anyway, and keeps ``isnull`` / ``= ""`` meaningful. Any other
    value, however short, is encrypted.

Lookups
    A ciphertext compares with nothing, so only ``isnull`` and ``exact`` against ``""``
    are allowed; any other lookup or transform raises ``FieldError`` instead of silently
    matching nothing (or, worse, tempting someone into a plaintext filter).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models.lookups import Exact, IsNull
from django.db.models.query_utils import DeferredAttribute

from aircop import crypto

__all__ = [
    "Ciphertext",
    "EncryptedDateField",
    "EncryptedTextField",
    "encrypted_fields_of",
]

AadFunction = Callable[[models.Model], bytes]


class Ciphertext(str):
    """An envelope as stored (base64url text), not decrypted yet."""

    __slots__ = ()


class _Envelope(Ciphertext):
    """An envelope just made by ``pre_save``: the only new values written to the column."""

    __slots__ = ()


class EncryptedAttribute(DeferredAttribute):
    """Decrypts on first access (then caches the plaintext); assignment stores plaintext."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            value = self.field.decrypt_for(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class _EmptyOnlyExact(Exact):
    """``= ""`` (an empty value is stored as ``""``); any other value is refused."""

    def __init__(self, lhs, rhs):
        if rhs != "":
            raise FieldError(
                f"{lhs.target.model.__name__}.{lhs.target.name} is encrypted: it can only be "
                "compared with the empty string (or tested with isnull)."
            )
        super().__init__(lhs, rhs)

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [value])


class EncryptedTextField(models.TextField):
    """Text encrypted at rest, bound to its row by ``aad(instance)``."""

    descriptor_class = EncryptedAttribute
    description = "Text encrypted at rest"

    def __init__(self, *args: Any, aad: AadFunction | None = None, **kwargs: Any) -> None:
        self.aad = aad
        super().__init__(*args, **kwargs)  # ``aad`` is behaviour, not schema: not deconstructed
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    # --- associated data, encryption -------------------------------------------------

    def associated_data(self, instance: models.Model) -> bytes:
        if self.aad is None:
            raise crypto.CryptoConfigurationError(
                f"{type(instance).__name__}.{self.name}: no associated data function"
            )
        return self.aad(instance) + b"|" + self.name.encode("ascii")

    def _serialise(self, value: Any) -> str:
        return value if isinstance(value, str) else str(value)

    def _deserialise(self, text: str) -> Any:
        return text

    def decrypt_for(self, instance: models.Model, envelope: str) -> Any:
        """The plaintext of a stored envelope of this field of ``instance``."""
        try:
            text = crypto.decrypt_text(str(envelope), aad=self.associated_data(instance))
        except crypto.DecryptionError as error:
            raise type(error)(
                f"{type(instance).__name__}.{self.name} (pk {instance.pk}) does not decrypt: "
                f"{error}",
                key_id=error.key_id,
            ) from None
        return self._deserialise(text)

    def encrypt_for(self, instance: models.Model, value: Any) -> Any:
        if value is None or value == "":
            return value
        return _Envelope(
            crypto.encrypt_text(self._serialise(value), aad=self.associated_data(instance))
        )

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        # The plaintext (decrypting a loaded envelope first): the associated data may have
        # changed since it was loaded, so the value is always sealed again.
        return self.encrypt_for(model_instance, getattr(model_instance, self.attname))

    # --- database --------------------------------------------------------------------

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Ciphertext(value)

    def to_python(self, value):
        if isinstance(value, Ciphertext):
            return value
        return super().to_python(value)

    def get_prep_value(self, value):
        return value

    def get_db_prep_save(self, value, connection):
        if value is None or value == "" or isinstance(value, Ciphertext):
            return None if value is None else str(value)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: save it through the model "
            "(save / create / bulk_create), not with a plaintext QuerySet.update()."
        )

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return _EmptyOnlyExact
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: the lookup {lookup_name!r} "
            "cannot work on it (only isnull, or exact with the empty string)."
        )

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        defaults: dict[str, Any] = {"max_length": self.max_length}
        if self.max_length is not None:
            defaults["widget"] = forms.TextInput
        return super().formfield(**{**defaults, **kwargs})


class EncryptedDateField(EncryptedTextField):
    """A date encrypted at rest (as ISO text); reads as ``datetime.date`` or ``None``."""

    description = "Date encrypted at rest"

    def _serialise(self, value: Any) -> str:
        return self.to_python(value).isoformat()

    def _deserialise(self, text: str) -> datetime.date | None:
        return datetime.date.fromisoformat(text) if text else None

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, Ciphertext):
            return None if value == "" else value
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None

    def encrypt_for(self, instance, value):
        value = self.to_python(value)
        return None if value is None else super().encrypt_for(instance, value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value is None else value.isoformat()

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **{"form_class": forms.DateField, **kwargs})


def encrypted_fields_of(model: type[models.Model]) -> list[EncryptedTextField]:
    """The encrypted fields of a model, in declaration order."""
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


# --- data migrations ------------------------------------------------------------------
#
# Used by the migrations that turned plaintext columns into encrypted ones, on historical
# models (whose fields have no ``aad``): the migration passes its own frozen copy of the
# identity formula, ``row_aad(row) -> bytes`` over a dict of the row's columns.


def _aad_with_field(row_aad: Callable[[dict], bytes], row: dict, name: str) -> bytes:
    return row_aad(row) + b"|" + name.encode("ascii")


def encrypt_existing_rows(
    model: type[models.Model],
    *,
    fields: list[str],
    identity: list[str],
    row_aad: Callable[[dict], bytes],
    uid_field: str = "uid",
    batch_size: int = 500,
) -> None:
    """Give each row without a uid a fresh uid and encrypt its plaintext ``fields``.

    Rows with a uid are done already (an interrupted, non-transactional run resumes).
    """
    from uuid import uuid4

    last = None
    columns = ["pk", *identity, *fields]
    while True:
        batch = model._base_manager.filter(**{f"{uid_field}__isnull": True}).order_by("pk")
        if last is not None:
            batch = batch.filter(pk__gt=last)
        rows = list(batch.values(*columns)[:batch_size])
        if not rows:
            return
        for row in rows:
            row[uid_field] = uuid4()
            changes: dict[str, Any] = {uid_field: row[uid_field]}
            for name in fields:
                value = row[name]
                if value is None or value == "":
                    continue
                if isinstance(value, datetime.date):
                    value = value.isoformat()
                changes[name] = Ciphertext(
                    crypto.encrypt_text(str(value), aad=_aad_with_field(row_aad, row, name))
                )
            model._base_manager.filter(pk=row["pk"]).update(**changes)
            last = row["pk"]


def decrypt_existing_rows(
    model: type[models.Model],
    *,
    fields: list[str],
    identity: list[str],
    row_aad: Callable[[dict], bytes],
    uid_field: str = "uid",
    batch_size: int = 500,
) -> None:
    """The reverse: write the plaintext back (the column is about to become plaintext)."""
    last = None
    columns = ["pk", uid_field, *identity, *fields]
    while True:
        batch = model._base_manager.order_by("pk")
        if last is not None:
            batch = batch.filter(pk__gt=last)
        rows = list(batch.values(*columns)[:batch_size])
        if not rows:
            return
        for row in rows:
            changes: dict[str, Any] = {}
            for name in fields:
                value = row[name]
                if value is None or value == "":
                    continue
                plaintext = crypto.decrypt_text(str(value), aad=_aad_with_field(row_aad, row, name))
                # Written as is, deliberately: the reverse migration restores plaintext.
                changes[name] = Ciphertext(plaintext)
            if changes:
                model._base_manager.filter(pk=row["pk"]).update(**changes)
            last = row["pk"]
