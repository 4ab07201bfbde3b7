"""Writes of accounts: tokens, memberships, preferences. Each in one transaction, audited."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aircop.exceptions import DomainError, NotFound

from .audit import audit_record
from .events import operation_revoked_on_commit
from .models import ApiToken, Membership, User
from .tokens import token_display_prefix, token_generate, token_hash


@transaction.atomic
def api_token_create(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored nor shown again."""
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name."), field="name")
    days = days or settings.AIRCOP_API_TOKEN_DAYS
    if not 1 <= days <= 366:
        raise DomainError(_("A token is valid for 1 to 366 days."), field="days")
    secret = token_generate()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=token_display_prefix(secret),
        key_hash=token_hash(secret),
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit_record(actor=user, action="api_token.created", target=token, data={"name": name})
    return token, secret


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound(_("No such token."), field="token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action="api_token.revoked", target=token)
    return token


# "Last used" is shown to the minute: a token used again within it costs no write.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)


def api_token_touch(*, token: ApiToken) -> None:
    """Record that ``token`` was used now, at most once a minute (a conditional UPDATE, so
    concurrent requests do not write twice)."""
    now = timezone.now()
    if token.last_used_at is not None and token.last_used_at > now - TOKEN_TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOKEN_TOUCH_EVERY)
    ).update(last_used_at=now)
    token.last_used_at = now


@transaction.atomic
def membership_leave(*, membership: Membership) -> Membership:
    """The member leaves the operation: access ends at once, history stays for the others."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.active:
        raise DomainError(_("You are no longer a member of this operation."), field="operation")
    membership.active = False
    membership.left_at = timezone.now()
    membership.save(update_fields=["active", "left_at"])
    audit_record(
        actor=membership.user,
        action="membership.left",
        operation=membership.operation,
        target=membership,
    )
    operation_revoked_on_commit(user_ids=[membership.user_id], slug=membership.operation.slug)
    return membership


@transaction.atomic
def user_update_profile(*, user: User, full_name: str, email: str, preferred_language: str) -> User:
    if preferred_language not in dict(settings.LANGUAGES):
        raise DomainError(_("Choose one of the offered languages."), field="preferred_language")
    user.full_name = full_name.strip()
    user.email = email.strip()
    user.preferred_language = preferred_language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "email", "preferred_language"])
    return user


def user_set_language(*, user: User, language: str) -> None:
    if language in dict(settings.LANGUAGES) and user.preferred_language != language:
        User.objects.filter(pk=user.pk).update(preferred_language=language)
