"""Log in, failed log in and log out, recorded in the audit trail (Django's auth signals).

A failure records the username that was tried and where from, never the password."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction

from ..models import User
from . import audit_record

USERNAME_MAX = 150
HEADER_MAX = 200


def _origin(request) -> dict:
    """Where a request came from: the peer address, and what a proxy (or the client) claims."""
    if request is None:
        return {}
    meta = request.META
    origin = {"ip": meta.get("REMOTE_ADDR", "")}
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        origin["forwarded_for"] = forwarded[:HEADER_MAX]
    agent = meta.get("HTTP_USER_AGENT", "")
    if agent:
        origin["user_agent"] = agent[:HEADER_MAX]
    return origin


@transaction.atomic
def login_succeeded_record(*, user: User, request=None) -> None:
    audit_record(actor=user, action="user.logged_in", target=user, data=_origin(request))


@transaction.atomic
def login_failed_record(*, username: str, request=None) -> None:
    audit_record(
        actor=None,
        action="user.login_failed",
        data={"username": username[:USERNAME_MAX], **_origin(request)},
    )


@transaction.atomic
def logout_record(*, user: User, request=None) -> None:
    audit_record(actor=user, action="user.logged_out", target=user, data=_origin(request))


def _on_logged_in(sender, request, user, **kwargs):
    login_succeeded_record(user=user, request=request)


def _on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the username is kept.
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    login_failed_record(username=str(username or ""), request=request)


def _on_logged_out(sender, request, user, **kwargs):
    if user is not None and user.is_authenticated:
        logout_record(user=user, request=request)


def connect() -> None:
    user_logged_in.connect(_on_logged_in, dispatch_uid="aircop.audit.logged_in")
    user_login_failed.connect(_on_login_failed, dispatch_uid="aircop.audit.login_failed")
    user_logged_out.connect(_on_logged_out, dispatch_uid="aircop.audit.logged_out")
