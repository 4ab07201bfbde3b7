"""Operation administration pages (/manage/): operations, their life, their members, users.

Administrators (staff) see and create every operation and deactivate users; an OCU lead manages
the members of the operations where they are OCU. Anyone else gets 404. Thin: forms parse,
services write, selectors read."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from aircop.exceptions import DomainError

from . import login_flow
from . import manage_selectors as selectors
from .deactivation import user_deactivate
from .invitations import invitation_accept, invitation_create
from .lifecycle import next_statuses, operation_set_status
from .manage_forms import (
    InvitationAcceptForm,
    InvitationForm,
    MemberAddForm,
    MemberImportForm,
    MemberRoleForm,
    OperationForm,
    OperationStatusForm,
)
from .member_import import MemberImportError, decode_upload, members_import
from .members import membership_add, membership_change_role, membership_remove
from .models import OperationStatus
from .operation_services import OperationInput, operation_create


def _staff_only(request) -> None:
    if not request.user.is_staff:
        raise Http404


def _form_error(form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
def operations(request):
    return render(
        request,
        "accounts/manage/operations.html",
        {"operations": selectors.administered_operations(user=request.user)},
    )


def _initial_from(source) -> dict:
    """Start a new operation from an earlier one: its texts, places and deadlines."""
    initial = {
        "countries": [str(c) for c in source.countries],
        "airports": ", ".join(source.airports),
        "ack_minutes_urgent": source.ack_minutes_urgent,
        "ack_minutes_normal": source.ack_minutes_normal,
        "copy_from": source.pk,
    }
    for code, _name in settings.LANGUAGES:
        initial[f"name_{code}"] = getattr(source, f"name_{code}", "") or ""
        initial[f"description_{code}"] = getattr(source, f"description_{code}", "") or ""
    return initial


@login_required
def operation_new(request):
    _staff_only(request)
    earlier = selectors.administered_operations(user=request.user)
    if request.method == "POST":
        form = OperationForm(request.POST, operations=earlier)
        if form.is_valid():
            data = form.cleaned_data
            try:
                operation = operation_create(
                    actor=request.user,
                    data=OperationInput(
                        slug=data["slug"],
                        names={k[5:]: v for k, v in data.items() if k.startswith("name_")},
                        descriptions={
                            k[12:]: v for k, v in data.items() if k.startswith("description_")
                        },
                        start_date=data["start_date"],
                        end_date=data["end_date"],
                        countries=data["countries"],
                        airports=data["airports"],
                        ack_minutes_urgent=data["ack_minutes_urgent"],
                        ack_minutes_normal=data["ack_minutes_normal"],
                    ),
                    copy_from=data["copy_from"],
                )
            except DomainError as error:
                _form_error(form, error)
            else:
                flash.success(request, _("Operation %(name)s created.") % {"name": operation})
                return redirect("manage:operation", slug=operation.slug)
        return render(request, "accounts/manage/operation_new.html", {"form": form}, status=400)
    source = earlier.filter(slug=request.GET.get("from", "")).first()
    form = OperationForm(initial=_initial_from(source) if source else None, operations=earlier)
    return render(request, "accounts/manage/operation_new.html", {"form": form})


def _operation_page(request, operation, *, status=200, **forms):
    context = {
        "operation_admin": operation,
        "members": selectors.members_of(operation=operation),
        "invitations": selectors.pending_invitations(operation=operation),
        "next_statuses": [OperationStatus(s) for s in next_statuses(operation)],
        "takes_members": operation.status in (OperationStatus.PLANNED, OperationStatus.ACTIVE),
        "role_form": MemberRoleForm(),
        "add_form": forms.get("add_form") or MemberAddForm(),
        "invite_form": forms.get("invite_form") or InvitationForm(),
        "import_form": forms.get("import_form") or MemberImportForm(),
        "import_errors": forms.get("import_errors"),
    }
    return render(request, "accounts/manage/operation.html", context, status=status)


@login_required
def operation(request, slug):
    operation = selectors.operation_to_administer(user=request.user, slug=slug)
    return _operation_page(request, operation)


@login_required
@require_POST
def operation_status(request, slug):
    _staff_only(request)
    operation = selectors.operation_to_administer(user=request.user, slug=slug)
    form = OperationStatusForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("Choose one of the offered statuses."), field="status")
        operation = operation_set_status(
            actor=request.user, operation=operation, status=form.cleaned_data["status"]
        )
    except DomainError as error:
        flash.error(request, error.message)
    else:
        flash.success(
            request,
            _("%(operation)s is now %(status)s.")
            % {"operation": operation, "status": operation.get_status_display().lower()},
        )
    return redirect("manage:operation", slug=slug)


@login_required
@require_POST
def member_add(request, slug):
    operation = selectors.operation_to_administer(user=request.user, slug=slug)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        user = selectors.user_by_identifier(form.cleaned_data["user"])
        try:
            if user is None:
                raise DomainError(
                    _("No active account with this username or e-mail."), field="user"
                )
            membership = membership_add(
                actor=request.user, operation=operation, user=user, role=form.cleaned_data["role"]
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            flash.success(
                request,
                _("%(user)s joined as %(role)s.")
                % {"user": membership.user, "role": membership.get_role_display()},
            )
            return redirect("manage:operation", slug=slug)
    return _operation_page(request, operation, status=400, add_form=form)


@login_required
@require_POST
def member_role(request, slug, membership_id):
    operation = selectors.operation_to_administer(user=request.user, slug=slug)
    membership = selectors.member_by_id(operation=operation, membership_id=membership_id)
    form = MemberRoleForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("Choose one of the offered roles."), field="role")
        membership = membership_change_role(
            actor=request.user, membership=membership, role=form.cleaned_data["role"]
        )
    except DomainError as error:
        flash.error(request, error.message)
    else:
        flash.success(
            request,
            _("%(user)s is now %(role)s.")
            % {"user": membership.user, "role": membership.get_role_display()},
        )
    return redirect("manage:operation", slug=slug)


@login_required
@require_POST
def member_remove(request, slug, membership_id):
    operation = selectors.operation_to_administer(user=request.user, slug=slug)
    membership = selectors.member_by_id(operation=operation, membership_id=membership_id)
    try:
        membership_remove(actor=request.user, membership=membership)
    except DomainError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, _("%(user)s is no longer a member.") % {"user": membership.user})
    if not selectors.may_administer_operation(user=request.user, operation=operation):
        return redirect("manage:operations")  # an OCU lead who removed themselves
    return redirect("manage:operation", slug=slug)


@login_required
@require_POST
def invite(request, slug):
    operation = selectors.operation_to_administer(user=request.user, slug=slug)
    form = InvitationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            invitation = invitation_create(
                actor=request.user,
                operation=operation,
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                country=data["country"],
                airport_code=data["airport"],
                language=data["language"],
                base_url=request.build_absolute_uri("/"),
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            flash.success(
                request,
                _("Invitation sent to %(email)s; the link is valid for 72 hours.")
                % {"email": invitation.email},
            )
            return redirect("manage:operation", slug=slug)
    return _operation_page(request, operation, status=400, invite_form=form)


@login_required
@require_POST
def member_import(request, slug):
    operation = selectors.operation_to_administer(user=request.user, slug=slug)
    form = MemberImportForm(request.POST, request.FILES)
    import_errors = None
    if form.is_valid():
        try:
            added = members_import(
                actor=request.user,
                operation=operation,
                text=decode_upload(form.cleaned_data["file"].read()),
            )
        except MemberImportError as error:
            form.add_error("file", error.message)
            import_errors = error.errors
        except DomainError as error:
            _form_error(form, error)
        else:
            flash.success(
                request,
                ngettext("%(count)s member added.", "%(count)s members added.", len(added))
                % {"count": len(added)},
            )
            return redirect("manage:operation", slug=slug)
    return _operation_page(
        request, operation, status=400, import_form=form, import_errors=import_errors
    )


@login_required
def users(request):
    _staff_only(request)
    query = request.GET.get("q", "")
    page = Paginator(selectors.users_to_administer(user=request.user, query=query), 50)
    return render(
        request,
        "accounts/manage/users.html",
        {"page": page.get_page(request.GET.get("page")), "query": query},
    )


@login_required
@require_POST
def user_deactivate_view(request, username):
    _staff_only(request)
    target = selectors.user_to_administer(user=request.user, username=username)
    try:
        user_deactivate(actor=request.user, user=target)
    except DomainError as error:
        flash.error(request, error.message)
    else:
        flash.success(
            request,
            _("%(user)s is deactivated: sessions, API tokens and live connections ended.")
            % {"user": target.username},
        )
    return redirect("manage:users")


@login_not_required
def invitation(request, secret):
    """The invitee's page: choose a username and a password, join the operation."""
    pending = selectors.invitation_for_secret(secret=secret)
    if pending is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                secret=secret,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            # The password is set: the login goes on with the second factor (enrolment first).
            user.backend = "accounts.backends.AccountBackend"
            login_flow.pending_start(
                request,
                user=user,
                next_url=reverse("messaging:inbox", args=[pending.operation.slug]),
            )
            flash.success(
                request,
                _("Welcome to %(operation)s.") % {"operation": pending.operation},
            )
            return redirect("accounts:second_factor")
    status = 400 if request.method == "POST" else 200
    with translation.override(pending.preferred_language):  # the language the inviter chose
        return render(
            request,
            "accounts/invitation_accept.html",
            {"form": form, "invitation": pending},
            status=status,
        )
