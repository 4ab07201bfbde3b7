"""API of operation administration (/api/v1/manage/...): operations, their status, members,
invitations, CSV bulk add, deactivating a user. Same rules as the pages: administrators (staff)
for every operation, OCU leads for their operation's members; 404 for anyone else, checked before
the body is read (``aircop.api_auth``: ``STAFF``, ``ADMINISTERS``)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from aircop.api_auth import ADMINISTERS, STAFF
from aircop.exceptions import DomainError, NotFound

from . import manage_selectors as selectors
from .deactivation import user_deactivate
from .invitations import invitation_create
from .lifecycle import operation_set_status
from .member_import import MemberImportError, decode_upload, members_import
from .members import membership_add, membership_change_role, membership_remove
from .models import Membership, Operation, Role
from .operation_services import OperationInput, operation_create

router = Router(tags=["administration"])


class OperationIn(Schema):
    slug: str
    name: dict[str, str] = Field(
        description="The name in each language, by language code; `en` is required"
    )
    description: dict[str, str] = {}
    start_date: date
    end_date: date
    countries: list[str] = Field([], description="ISO 3166 alpha-2 codes")
    airports: list[str] = Field([], description="IATA codes")
    ack_minutes_urgent: int = 15
    ack_minutes_normal: int = 120
    copy_members_from: str | None = Field(
        None, description="Slug of an earlier operation whose members and roles are copied"
    )


class OperationAdminOut(Schema):
    slug: str
    name: str
    start_date: date
    end_date: date
    status: str
    countries: list[str]
    airports: list[str]
    ack_minutes_urgent: int
    ack_minutes_normal: int
    members: int


class StatusIn(Schema):
    status: str = Field(description="active, closed or archived: one step along the life")


class MemberIn(Schema):
    user: str = Field(description="Username, or e-mail address")
    role: str = Role.OFFICER


class RoleIn(Schema):
    role: str


class MemberOut(Schema):
    username: str
    full_name: str
    email: str
    country: str
    airport: str
    role: str
    joined_at: datetime


class InvitationIn(Schema):
    email: str
    full_name: str
    role: str = Role.OFFICER
    country: str = ""
    airport: str = ""
    language: str = "en"


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    expires_at: datetime


class RowErrorOut(Schema):
    line: int
    field: str
    message: str


class ImportRefusedOut(Schema):
    detail: str
    field: str
    code: str
    errors: list[RowErrorOut]


class AddedOut(Schema):
    added: int


def _operation_out(operation: Operation) -> OperationAdminOut:
    return OperationAdminOut(
        slug=operation.slug,
        name=operation.name,
        start_date=operation.start_date,
        end_date=operation.end_date,
        status=operation.status,
        countries=[str(c) for c in operation.countries],
        airports=list(operation.airports),
        ack_minutes_urgent=operation.ack_minutes_urgent,
        ack_minutes_normal=operation.ack_minutes_normal,
        members=Membership.objects.filter(operation=operation, active=True).count(),
    )


def _member_out(membership: Membership) -> MemberOut:
    user = membership.user
    return MemberOut(
        username=user.username,
        full_name=user.get_full_name(),
        email=user.email,
        country=str(user.country or ""),
        airport=user.airport,
        role=membership.role,
        joined_at=membership.joined_at,
    )


@router.get(
    "/manage/operations",
    response=list[OperationAdminOut],
    summary="The operations I administer",
)
def operations_administered(request):
    return [_operation_out(o) for o in selectors.administered_operations(user=request.auth)]


@router.post(
    "/manage/operations",
    response={201: OperationAdminOut},
    summary="Create an operation (administrators), optionally copying an earlier one's members",
    auth=STAFF,
)
def operation_new(request, payload: OperationIn):
    source = None
    if payload.copy_members_from:
        source = (
            selectors.administered_operations(user=request.auth)
            .filter(slug=payload.copy_members_from)
            .first()
        )
        if source is None:
            raise NotFound(
                _("No such operation to copy from."), field="copy_members_from", code="not_found"
            )
    operation = operation_create(
        actor=request.auth,
        data=OperationInput(
            slug=payload.slug,
            names=payload.name,
            descriptions=payload.description,
            start_date=payload.start_date,
            end_date=payload.end_date,
            countries=payload.countries,
            airports=payload.airports,
            ack_minutes_urgent=payload.ack_minutes_urgent,
            ack_minutes_normal=payload.ack_minutes_normal,
        ),
        copy_from=source,
    )
    return Status(201, _operation_out(operation))


@router.post(
    "/manage/operations/{slug}/status",
    response=OperationAdminOut,
    summary="Move an operation one step along its life (administrators)",
    auth=STAFF,
)
def operation_status(request, slug: str, payload: StatusIn):
    operation = selectors.operation_to_administer(user=request.auth, slug=slug)
    return _operation_out(
        operation_set_status(actor=request.auth, operation=operation, status=payload.status)
    )


@router.get(
    "/manage/operations/{slug}/members",
    response=list[MemberOut],
    summary="The operation's members and their roles",
    url_name="manage_members_list",  # messaging's API has its own members_list
    auth=ADMINISTERS,
)
def members_list(request, slug: str):
    operation = selectors.operation_to_administer(user=request.auth, slug=slug)
    return [_member_out(m) for m in selectors.members_of(operation=operation)]


@router.post(
    "/manage/operations/{slug}/members",
    response={201: MemberOut},
    summary="Add an existing user to the operation",
    auth=ADMINISTERS,
)
def member_add(request, slug: str, payload: MemberIn):
    operation = selectors.operation_to_administer(user=request.auth, slug=slug)
    user = selectors.user_by_identifier(payload.user)
    if user is None:
        raise DomainError(_("No active account with this username or e-mail."), field="user")
    membership = membership_add(
        actor=request.auth, operation=operation, user=user, role=payload.role
    )
    return Status(201, _member_out(membership))


# Declared before `members/{username}`, which would otherwise match `members/import`.
@router.post(
    "/manage/operations/{slug}/members/import",
    response={201: AddedOut, 400: ImportRefusedOut},
    summary="Add members from a CSV file: username or email, role, country, airport",
    auth=ADMINISTERS,
)
def members_import_csv(request, slug: str, file: File[UploadedFile]):
    """All rows or none: a refused file answers 400 with every bad row as `line`, `field`
    (`user`, `role`, `country`, `airport`) and `message`."""
    operation = selectors.operation_to_administer(user=request.auth, slug=slug)
    try:
        added = members_import(
            actor=request.auth, operation=operation, text=decode_upload(file.read())
        )
    except MemberImportError as error:
        return Status(
            400,
            {
                "detail": error.message,
                "field": "file",
                "code": error.code,
                "errors": [
                    {"line": e.line, "field": e.field, "message": e.message} for e in error.errors
                ],
            },
        )
    return Status(201, {"added": len(added)})


@router.patch(
    "/manage/operations/{slug}/members/{username}",
    response=MemberOut,
    summary="Change a member's role (takes effect at once)",
    auth=ADMINISTERS,
)
def member_role(request, slug: str, username: str, payload: RoleIn):
    operation = selectors.operation_to_administer(user=request.auth, slug=slug)
    membership = selectors.member_of(operation=operation, username=username)
    return _member_out(
        membership_change_role(actor=request.auth, membership=membership, role=payload.role)
    )


@router.delete(
    "/manage/operations/{slug}/members/{username}",
    response={204: None},
    summary="Remove a member (access ends at once: pages, API, websocket)",
    auth=ADMINISTERS,
)
def member_remove(request, slug: str, username: str):
    operation = selectors.operation_to_administer(user=request.auth, slug=slug)
    membership = selectors.member_of(operation=operation, username=username)
    membership_remove(actor=request.auth, membership=membership)
    return Status(204, None)


@router.post(
    "/manage/operations/{slug}/invitations",
    response={201: InvitationOut},
    summary="Invite someone by e-mail (a one-time link valid 72 hours)",
    auth=ADMINISTERS,
)
def invitation_new(request, slug: str, payload: InvitationIn):
    operation = selectors.operation_to_administer(user=request.auth, slug=slug)
    invitation = invitation_create(
        actor=request.auth,
        operation=operation,
        email=payload.email,
        full_name=payload.full_name,
        role=payload.role,
        country=payload.country,
        airport_code=payload.airport,
        language=payload.language,
        base_url=request.build_absolute_uri("/"),
    )
    return Status(
        201,
        InvitationOut(
            id=invitation.pk,
            email=invitation.email,
            role=invitation.role,
            expires_at=invitation.expires_at,
        ),
    )


@router.post(
    "/manage/users/{username}/deactivate",
    response={204: None},
    summary="Deactivate a user: sessions, API tokens and websockets end at once",
    auth=STAFF,
)
def user_deactivate_api(request, username: str):
    target = selectors.user_to_administer(user=request.auth, username=username)
    user_deactivate(actor=request.auth, user=target)
    return Status(204, None)
