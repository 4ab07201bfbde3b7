from django.utils.functional import SimpleLazyObject

from .manage_selectors import may_administer


def administration(request):
    """``may_administer``: show the administration link (queried only when a page asks)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"may_administer": SimpleLazyObject(lambda: may_administer(user=user))}
