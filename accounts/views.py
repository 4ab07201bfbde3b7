"""Account pages: profile and API tokens, my operations, leaving one, the language switch."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_not_required, login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language
from django_otp.decorators import otp_required

from aircop.exceptions import DomainError
from aircop.ratelimit import limit_page

from . import selectors, services, two_factor
from .forms import ApiTokenForm, ProfileForm


@login_required
def home(request):
    """The last operation the user opened, else the first one, else the list."""
    memberships = list(selectors.memberships_of(user=request.user))
    slugs = [m.operation.slug for m in memberships]
    current = request.session.get(selectors.CURRENT_OPERATION_SESSION_KEY)
    if current in slugs:
        return redirect("messaging:inbox", slug=current)
    if slugs:
        return redirect("messaging:inbox", slug=slugs[0])
    return redirect("accounts:operations")


@login_required
def operations(request):
    return render(
        request,
        "accounts/operations.html",
        {"memberships": selectors.memberships_of(user=request.user)},
    )


@login_required
def operation_leave(request, slug):
    membership = selectors.membership_for(user=request.user, slug=slug)
    if request.method == "POST":
        services.membership_leave(membership=membership)
        flash.success(
            request, _("You have left %(operation)s.") % {"operation": membership.operation}
        )
        return redirect("accounts:operations")
    return render(request, "accounts/leave.html", {"membership": membership})


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(
            user=request.user,
            full_name=form.cleaned_data["full_name"],
            email=form.cleaned_data["email"],
            preferred_language=form.cleaned_data["preferred_language"],
        )
        flash.success(request, _("Your profile is saved."))
        return redirect("accounts:profile")
    return _profile_page(request, form=form, token_form=ApiTokenForm())


def _profile_page(request, *, form, token_form, new_secret=None, status=200):
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "token_form": token_form,
            "tokens": selectors.api_tokens_of(user=request.user),
            "memberships": selectors.memberships_of(user=request.user),
            "new_secret": new_secret,
            "recovery_codes_left": two_factor.recovery_codes_left(user=request.user),
        },
        status=status,
    )


@otp_required(if_configured=False)
@require_POST
@limit_page("api_token_create")
def token_create(request):
    """A token is a standing credential: only a session verified by a second factor makes one."""
    token_form = ApiTokenForm(request.POST)
    if token_form.is_valid():
        try:
            _token, secret = services.api_token_create(
                user=request.user,
                name=token_form.cleaned_data["name"],
                days=token_form.cleaned_data["days"],
            )
        except DomainError as error:
            token_form.add_error(
                error.field if error.field in token_form.fields else None, error.message
            )
        else:
            # Shown once, on this response only; never stored in clear.
            return _profile_page(
                request,
                form=ProfileForm(instance=request.user),
                token_form=ApiTokenForm(),
                new_secret=secret,
            )
    return _profile_page(
        request, form=ProfileForm(instance=request.user), token_form=token_form, status=400
    )


@login_required
@require_POST
def token_revoke(request, token_id):
    token = services.api_token_revoke(user=request.user, token_id=token_id)
    flash.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:profile")


@login_not_required
@require_POST
def set_language(request):
    """Django's set_language, remembering the choice in a signed-in user's profile."""
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=request.POST.get("language", ""))
    return django_set_language(request)
