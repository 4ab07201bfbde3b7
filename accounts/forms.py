from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aircop.forms import StyledFormMixin

from .models import User


class ProfileForm(StyledFormMixin, forms.ModelForm):
    """What a user may change alone. Country, airport, agency and roles decide routing:
    administrators set them."""

    class Meta:
        model = User
        fields = ["full_name", "email", "preferred_language"]


class ApiTokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “gate tablet” or “reporting script”."),
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=366,
        initial=settings.AIRCOP_API_TOKEN_DAYS,
    )


class PasswordChangeForm(StyledFormMixin, auth_forms.PasswordChangeForm):
    pass


def login_failed_message() -> str:
    """One message for an unknown username, a wrong password, a wrong code and a lockout:
    the login page never tells whether a username exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return gettext(
        "Sign-in failed: check your username, password and code. After %(limit)s failed "
        "attempts, sign-in is blocked for %(minutes)s minutes."
    ) % {"limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}


class LoginForm(auth_forms.AuthenticationForm):
    """The password step. Inactive accounts and unknown usernames fail alike."""

    def get_invalid_login_error(self):
        return forms.ValidationError(login_failed_message(), code="invalid_login")

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise self.get_invalid_login_error()


class SecondFactorForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code of your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolmentForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Code shown by the app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
