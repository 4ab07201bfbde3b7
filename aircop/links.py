"""Absolute links for e-mails, which leave the site: ``AIRCOP_SITE_URL`` + a named URL."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute_url(name: str, **kwargs) -> str:
    return settings.AIRCOP_SITE_URL + reverse(name, kwargs=kwargs or None)
