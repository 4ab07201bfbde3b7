"""Who calls the API, and whether the objects its path names are theirs, before the body is read.

django-ninja authenticates, then parses and validates the parameters and the body, then runs
the endpoint. An endpoint's own selector (``membership_for``, ``message_for``...) answers 404
to a user outside the operation, but only after validation: a malformed body from an outsider
would get 422 where a well-formed one gets 404. The authentication classes here therefore check
the objects named in the path as soon as the user is known, with the same selectors: an
operation (``slug``), a message (``message_id``), a seizure (``seizure_id``). Each endpoint still
applies its full rule (a recipient, an OCU ...) afterwards.

An endpoint whose path object is reachable by more than its members (an operation's results,
open to administrators) declares ``auth=UNSCOPED`` and keeps its own check. Operation
administration (/manage/) checks its own rule the same way, before the body: ``ADMINISTERS``
(the operation of the path is one the user administers: an administrator, or its OCU lead)
and ``STAFF`` (administrators only); 404 for anyone else. A correction of a seizure (``CORRECTS``)
is refused to the seizure's other members (403) before the body too.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja.security import SessionAuth

from accounts.auth import ApiBearerAuth
from accounts.manage_selectors import operation_to_administer
from accounts.selectors import membership_for
from messaging.selectors import message_for
from seizures.selectors import seizure_for
from seizures.services import seizure_correctable_by


def path_scope_check(request, user) -> None:
    """Http404 unless every object named in the resolved path is visible to ``user``."""
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match is not None else {}
    if "slug" in kwargs:
        # Kept for the view (``path_membership``): the same row, not read twice.
        request.path_membership = membership_for(user=user, slug=str(kwargs["slug"]))
    message_id = str(kwargs.get("message_id", ""))
    if message_id.isdigit():
        message_for(user=user, message_id=int(message_id))
    seizure_id = str(kwargs.get("seizure_id", ""))
    if seizure_id.isdigit():
        seizure_for(user=user, seizure_id=int(seizure_id))


def path_membership(request, slug: str):
    """The user's membership in the operation ``slug`` of the path: the one the scoped
    authentication checked for this request, else read now (404 for a non-member)."""
    membership = getattr(request, "path_membership", None)
    if membership is not None and membership.operation.slug == slug:
        return membership
    return membership_for(user=request.auth, slug=slug)


def administration_scope_check(request, user) -> None:
    """Http404 unless the operation named in the path (if any) is one ``user`` administers."""
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match is not None else {}
    if "slug" in kwargs:
        operation_to_administer(user=user, slug=str(kwargs["slug"]))


def staff_check(request, user) -> None:
    """Http404 unless ``user`` is an administrator (then every operation is theirs)."""
    if not user.is_staff:
        raise Http404


def correction_scope_check(request, user) -> None:
    """The path's objects (404), then 403 unless ``user`` may correct the seizure."""
    path_scope_check(request, user)
    match = getattr(request, "resolver_match", None)
    seizure_id = str((match.kwargs if match is not None else {}).get("seizure_id", ""))
    if seizure_id.isdigit():
        seizure = seizure_for(user=user, seizure_id=int(seizure_id))
        if not seizure_correctable_by(user=user, seizure=seizure):
            raise PermissionDenied


class _PathScoped:
    scope_check = staticmethod(path_scope_check)

    def __call__(self, request):
        user = super().__call__(request)  # type: ignore[misc]
        if user:
            self.scope_check(request, user)
        return user


class ScopedBearerAuth(_PathScoped, ApiBearerAuth):
    """``Authorization: Bearer <token>``, then the path's objects."""


class ScopedSessionAuth(_PathScoped, SessionAuth):
    """The browser's session (with its CSRF check), then the path's objects."""


class AdministersBearerAuth(ScopedBearerAuth):
    scope_check = staticmethod(administration_scope_check)


class AdministersSessionAuth(ScopedSessionAuth):
    scope_check = staticmethod(administration_scope_check)


class StaffBearerAuth(ScopedBearerAuth):
    scope_check = staticmethod(staff_check)


class StaffSessionAuth(ScopedSessionAuth):
    scope_check = staticmethod(staff_check)


class CorrectsBearerAuth(ScopedBearerAuth):
    scope_check = staticmethod(correction_scope_check)


class CorrectsSessionAuth(ScopedSessionAuth):
    scope_check = staticmethod(correction_scope_check)


SCOPED = [ScopedBearerAuth(), ScopedSessionAuth()]
UNSCOPED = [ApiBearerAuth(), SessionAuth()]
ADMINISTERS = [AdministersBearerAuth(), AdministersSessionAuth()]
STAFF = [StaffBearerAuth(), StaffSessionAuth()]
CORRECTS = [CorrectsBearerAuth(), CorrectsSessionAuth()]
