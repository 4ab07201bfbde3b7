"""Invitations by e-mail: a one-time link, valid 72 hours, to set a password and join.

The link's secret is shown only in the e-mail; the database keeps its SHA-256 hash. A newer
invitation to the same address for the same operation supersedes the older one. Accepting
creates the account with the country, airport, role and language the inviter chose."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aircop.exceptions import Conflict, DomainError, NotFound
from aircop.mail import mail_user

from .audit import audit_record
from .members import check_administers, check_posting, check_role, join, lock_open_operation
from .models import Invitation, Membership, Operation, User


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invitation_link(*, base_url: str, secret: str) -> str:
    return base_url.rstrip("/") + reverse("accounts:invitation_accept", kwargs={"secret": secret})


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    operation: Operation,
    email: str,
    full_name: str,
    role: str,
    country: str = "",
    airport_code: str = "",
    language: str = "",
    base_url: str,
) -> Invitation:
    """Invite an address to the operation; the e-mail leaves after commit, in ``language``."""
    check_administers(actor=actor, operation=operation)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise DomainError(_("Enter a valid e-mail address."), field="email") from error
    full_name = (full_name or "").strip()
    if not full_name:
        raise DomainError(_("Give the person's full name."), field="full_name")
    check_role(role)
    country, airport_code = check_posting(country=country, airport_code=airport_code)
    language = language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Choose one of the offered languages."), field="language")
    operation = lock_open_operation(operation)
    if Membership.objects.filter(
        operation=operation, active=True, user__email__iexact=email
    ).exists():
        raise Conflict(
            _("%(email)s is already a member of this operation.") % {"email": email},
            field="email",
            code="already_member",
        )
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            _("%(email)s already has an account: add that user as a member instead.")
            % {"email": email},
            field="email",
            code="existing_user",
        )
    now = timezone.now()
    # A newer invitation supersedes any pending one to the same address.
    Invitation.objects.filter(
        operation=operation, email=email, accepted_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        operation=operation,
        email=email,
        full_name=full_name,
        role=role,
        country=country,
        airport=airport_code,
        preferred_language=language,
        key_hash=_hash(secret),
        invited_by=actor,
        created_at=now,
        expires_at=now + timedelta(hours=settings.AIRCOP_INVITATION_HOURS),
    )
    audit_record(
        actor=actor,
        action="invitation.created",
        operation=operation,
        target=invitation,
        data={"email": email, "role": role},
    )
    # The invitee has no account yet: an unsaved user carries the name and the language.
    invitee = User(email=email, full_name=full_name, preferred_language=language)
    context = {
        "operation": operation,
        "inviter": actor,
        "link": invitation_link(base_url=base_url, secret=secret),
        "hours": settings.AIRCOP_INVITATION_HOURS,
        "role": invitation.get_role_display,
    }
    # robust: a mail server failure is logged, never a 500 after the invitation committed (a
    # new invitation to the same address supersedes this one).
    transaction.on_commit(
        lambda: mail_user(invitee, template="accounts/email/invitation", context=context, to=email),
        robust=True,
    )
    return invitation


@transaction.atomic
def invitation_accept(*, secret: str, username: str, password: str) -> User:
    """Create the invitee's account with this password and make it a member; the link is then
    spent. An unknown, used or expired link is refused."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("operation", "invited_by")
        .filter(key_hash=_hash(secret or ""))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        raise NotFound(
            _("This invitation link is not valid: it has expired or has already been used."),
            field="token",
            code="invitation_invalid",
        )
    operation = lock_open_operation(invitation.operation)
    username = (username or "").strip()
    user = User(
        username=username,
        email=invitation.email,
        full_name=invitation.full_name,
        country=invitation.country,
        airport=invitation.airport,
        preferred_language=invitation.preferred_language,
    )
    try:
        User._meta.get_field("username").run_validators(username)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="username") from error
    if not username:
        raise DomainError(_("Choose a username."), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(_("This username is taken: choose another."), field="username")
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise Conflict(
            _("%(email)s already has an account.") % {"email": invitation.email},
            field="token",
            code="existing_user",
        )
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="password") from error
    user.set_password(password)
    user.save()
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    join(
        actor=user,
        operation=operation,
        user=user,
        role=invitation.role,
        data={
            "invitation": invitation.pk,
            "invited_by": invitation.invited_by.username if invitation.invited_by else None,
        },
    )
    return user
