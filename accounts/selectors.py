"""Reads of accounts and operations, always scoped to the acting user."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from .models import ApiToken, Membership, OperationStatus, User
from .tokens import token_hash

# The session remembers the operation the user last opened (home page redirects there).
CURRENT_OPERATION_SESSION_KEY = "aircop.operation"


def memberships_of(*, user: User) -> QuerySet[Membership]:
    """The user's active memberships, with their operation, newest operation first."""
    if not user.is_authenticated or not user.is_active:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user, active=True)
        .exclude(operation__status=OperationStatus.ARCHIVED)
        .select_related("operation")
        .order_by("-operation__start_date", "operation__name")
    )


def membership_for(*, user: User, slug: str) -> Membership:
    """The user's active membership in the operation ``slug``; 404 for anyone else."""
    # One row at most: the list's ordering (by the operation's dates and name) is not needed.
    membership = memberships_of(user=user).filter(operation__slug=slug).order_by("pk").first()
    if membership is None:
        raise Http404
    return membership


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def token_for_secret(*, secret: str) -> ApiToken | None:
    """The usable token with this secret, with its user (active, not blocked), or None."""
    if not secret:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(secret), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active or token.user.blocked_at is not None:
        return None
    return token


def user_for_token(*, secret: str) -> User | None:
    """The active, unblocked user owning a usable token with this secret, or None."""
    token = token_for_secret(secret=secret)
    return token.user if token is not None else None
