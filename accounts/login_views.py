"""The pages of the login flow: password, second factor or first enrolment, recovery codes,
the lockout answer. The steps themselves live in ``accounts.login_flow``."""

from __future__ import annotations

from base64 import b32encode

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from aircop.exceptions import Conflict

from . import login_flow, two_factor
from .forms import EnrolmentForm, LoginForm, SecondFactorForm, login_failed_message


class PasswordLoginView(auth_views.LoginView):
    """Step one. The right password starts a pending login, not a session."""

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        login_flow.pending_start(
            self.request, user=form.get_user(), next_url=self.get_success_url()
        )
        return redirect("accounts:second_factor")


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked username or address (AXES_LOCKOUT_CALLABLE): the login
    page, with the same message as any failed login, 429 and when to come back."""
    login_flow.pending_clear(request)
    response = render(
        request,
        "accounts/login.html",
        {"form": LoginForm(request), "login_error": login_failed_message(), "next": ""},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def _wait_message(until) -> str:
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    return _("Too many wrong codes: try again in %(seconds)s seconds.") % {"seconds": seconds}


def _pending_or_login(request):
    pending = login_flow.pending_login(request)
    if pending is None:
        flash.info(request, _("Log in with your username and password first."))
    return pending


def _throttled(device, form) -> bool:
    """django-otp slows down guessing (1, 2, 4 ... seconds after each wrong code): a code sent
    too early is not checked, and does not count as a failure."""
    until = two_factor.verify_wait_until(device)
    if until is not None:
        form.add_error("code", _wait_message(until))
    return until is not None


@login_not_required
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def second_factor(request):
    """Step two: a code of the user's authenticator, or a recovery code."""
    pending = _pending_or_login(request)
    if pending is None:
        return redirect("accounts:login")
    device = two_factor.totp_device_of(user=pending.user)
    if device is None:
        return redirect("accounts:enrol")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if login_flow.is_locked_out(request, user=pending.user):
            return locked_out(request)
        if not _throttled(device, form):
            verified = two_factor.second_factor_verify(
                user=pending.user, code=form.cleaned_data["code"]
            )
            if verified is not None:
                login_flow.login_complete(request, pending=pending, device=verified)
                if isinstance(verified, StaticDevice):
                    left = two_factor.recovery_codes_left(user=pending.user)
                    flash.warning(
                        request,
                        _(
                            "You signed in with a recovery code, which is now used up: "
                            "%(left)s left. New codes are on your profile page."
                        )
                        % {"left": left},
                    )
                return redirect(pending.next_url)
            login_flow.second_factor_failed(request, user=pending.user)
            form.add_error(
                "code", _("This code is not valid, or was already used. Try the next one.")
            )
    return render(request, "accounts/second_factor.html", {"form": form}, status=_status(form))


@login_not_required
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def enrol(request):
    """First login (or after an administrator's reset): set up the authenticator app."""
    pending = _pending_or_login(request)
    if pending is None:
        return redirect("accounts:login")
    if two_factor.totp_device_of(user=pending.user) is not None:
        return redirect("accounts:second_factor")
    device = two_factor.totp_enrolment_device(user=pending.user)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if login_flow.is_locked_out(request, user=pending.user):
            return locked_out(request)
        if not _throttled(device, form):
            try:
                confirmed = two_factor.totp_enrolment_confirm(
                    user=pending.user, code=form.cleaned_data["code"]
                )
            except Conflict:
                return redirect("accounts:second_factor")
            if confirmed is not None:
                device, codes = confirmed
                login_flow.login_complete(request, pending=pending, device=device)
                return _recovery_codes_page(request, codes=codes, next_url=pending.next_url)
            login_flow.second_factor_failed(request, user=pending.user)
            form.add_error(
                "code",
                _("This code is not valid: check the time of your phone and type the newest code."),
            )
    secret = b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": two_factor.qr_code_svg(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "otpauth_uri": device.config_url,
            "username": pending.user.username,
        },
        status=_status(form),
    )


@login_required
@require_POST
@never_cache
def recovery_codes_renew(request):
    codes = two_factor.recovery_codes_regenerate(user=request.user)
    return _recovery_codes_page(request, codes=codes, next_url=reverse("accounts:profile"))


def _recovery_codes_page(request, *, codes, next_url):
    """Shown once, on this response only: the codes are never displayed again."""
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next_url": next_url})


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_not_required
def admin_login(request):
    """The admin's own login form would skip the second factor: use the app's."""
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("accounts:login") + (f"?{query}" if query else ""))
