"""E-mail to a user, written in that user's language.

Every e-mail the product sends goes through ``mail_user``: the subject and the body are rendered
from templates under ``translation.override(user.preferred_language)``, so an officer reads the
reminder in the language of their profile, whatever the language of whoever triggered it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import User


def mail_user(
    user: User,
    *,
    template: str,
    context: dict[str, Any] | None = None,
    to: str | None = None,
) -> int:
    """Send ``<template>_subject.txt`` / ``<template>_body.txt`` to ``user`` (or to the address
    ``to``, for an invitation not yet accepted). Returns the number of messages sent (0 when
    there is no address)."""
    address = to or user.email
    if not address:
        return 0
    context = {"user": user, **(context or {})}
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context)
    return EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[address]
    ).send()
