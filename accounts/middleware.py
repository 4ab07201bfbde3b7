from django.utils import translation


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
