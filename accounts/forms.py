from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
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
