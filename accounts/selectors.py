"""Reads of accounts and operations, always scoped to the acting user."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from aircop.rows import columns, instances

from .models import ApiToken, Membership, Operation, OperationStatus, User
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
    """The user's active membership in the operation ``slug``, with its operation; 404 for
    anyone else. The rule of ``memberships_of``, in one hand-written query: every request
    naming an operation asks (``aircop.rows``)."""
    if not user.is_authenticated or not user.is_active:
        raise Http404
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Membership, 'm')}, {columns(Operation, 'o')}"  # noqa: S608
            f" FROM {Membership._meta.db_table} m"
            f" JOIN {Operation._meta.db_table} o ON o.id = m.operation_id"
            " WHERE m.user_id = %s AND m.active AND o.slug = %s AND o.status <> %s"
            " ORDER BY m.id LIMIT 1",
            [user.pk, slug, OperationStatus.ARCHIVED],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404
    membership, operation = instances(row, (Membership, Operation))
    membership.user, membership.operation = user, operation
    return membership


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def token_for_secret(*, secret: str) -> ApiToken | None:
    """The usable token with this secret (neither revoked nor expired), with its user (active,
    not blocked), or None. One hand-written query: every API request asks (``aircop.rows``)."""
    if not secret:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(ApiToken, 't')}, {columns(User, 'u')}"  # noqa: S608
            f" FROM {ApiToken._meta.db_table} t"
            f" JOIN {User._meta.db_table} u ON u.id = t.user_id"
            " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s"
            " AND u.is_active AND u.blocked_at IS NULL",
            [token_hash(secret), connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    token, user = instances(row, (ApiToken, User))
    token.user = user
    return token


def user_for_token(*, secret: str) -> User | None:
    """The active, unblocked user owning a usable token with this secret, or None."""
    token = token_for_secret(secret=secret)
    return token.user if token is not None else None
