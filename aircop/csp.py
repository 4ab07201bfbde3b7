"""Content-Security-Policy: Django's own middleware, plus the websocket origin of the request.

``settings.SECURE_CSP`` is the strict policy of every response (scripts and styles from the
site or carrying the request's nonce, nothing inline, no framing). The live inbox opens a
websocket to the page's own host; CSP Level 3 lets ``'self'`` match it, but browsers that
predate that rule need the ``ws:``/``wss:`` origin named, so ``connect-src`` gains the origin
of this request's (validated) host. A view that sets its own policy (``csp_override``) keeps it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.middleware import csp
from django.utils.csp import CSP


def websocket_origin(request) -> str | None:
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return f"{'wss' if request.is_secure() else 'ws'}://{host}"


def policy_for(request, base: dict) -> dict:
    """``base`` with the request's websocket origin added to ``connect-src``."""
    origin = websocket_origin(request)
    if origin is None:
        return base
    connect = list(base.get("connect-src") or [CSP.SELF])
    return {**base, "connect-src": [*connect, origin]}


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    def process_response(self, request, response):
        if not hasattr(response, "_csp_config") and settings.SECURE_CSP:
            response._csp_config = policy_for(request, settings.SECURE_CSP)
        return super().process_response(request, response)
