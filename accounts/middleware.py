from django.conf import settings
from django.contrib import auth
from django.contrib import messages as flash
from django.contrib.auth import middleware as auth_middleware
from django.utils import translation
from django.utils.translation import gettext as _

from . import sessions


class PreferredLanguageMiddleware:
    """A signed-in user's preferred language (profile) wins over cookie and browser.

    Sits after AuthenticationMiddleware; LocaleMiddleware before it serves
    anonymous pages (the login page) from the cookie or Accept-Language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.preferred_language:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class SessionPolicyMiddleware:
    """Ends a signed-in session that is not verified by a second factor (a login that skipped
    the app's login flow, a second factor reset by an administrator), that has been idle for
    ``AIRCOP_SESSION_IDLE_SECONDS`` or that is ``AIRCOP_SESSION_ABSOLUTE_SECONDS`` old; the
    session is flushed on the server and the request goes on as anonymous. Otherwise records
    the activity. Sits after django-otp's OTPMiddleware and MessageMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            reason = None if user.is_verified() else sessions.SessionEnd.UNVERIFIED
            reason = reason or sessions.session_end_reason(request.session)
            if reason is None:
                sessions.session_touch(request.session)
            else:
                auth.logout(request)
                notice = _session_end_notice(reason)
                if notice:
                    flash.info(request, notice)
        return self.get_response(request)


def _session_end_notice(reason: sessions.SessionEnd) -> str | None:
    if reason == sessions.SessionEnd.IDLE:
        minutes = settings.AIRCOP_SESSION_IDLE_SECONDS // 60
        return _("Your session ended after %(minutes)s minutes without activity: log in again.") % {
            "minutes": minutes
        }
    if reason == sessions.SessionEnd.ABSOLUTE:
        hours = settings.AIRCOP_SESSION_ABSOLUTE_SECONDS // 3600
        return _("Your session ended %(hours)s hours after you logged in: log in again.") % {
            "hours": hours
        }
    return None


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's: every view needs a signed-in user, hence a verified session, unless marked
    ``login_not_required`` (login, second factor, language). The JSON API is left to its own
    authentication (Bearer token or signed-in session), which answers 401."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and "api" in match.namespaces:
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
