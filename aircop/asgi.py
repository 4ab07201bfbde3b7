"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aircop.settings")

from aircop.asgi_handler import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.auth import (  # noqa: E402
    WebsocketBearerAuthMiddleware,
    WebsocketSessionPolicyMiddleware,
    websocket_origin_validator,
)
from aircop.request_id import WebsocketRequestIdMiddleware  # noqa: E402
from messaging.websocket_urls import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketRequestIdMiddleware(
            websocket_origin_validator(
                AuthMiddlewareStack(
                    WebsocketSessionPolicyMiddleware(
                        WebsocketBearerAuthMiddleware(URLRouter(websocket_urlpatterns))
                    )
                )
            )
        ),
    }
)

# Last: what start-up loaded lives as long as the process, out of the collector's way.
from django.conf import settings  # noqa: E402

from aircop import gc_pauses  # noqa: E402

gc_pauses.freeze_start_up()
gc_pauses.log_long_pauses(settings.AIRCOP_GC_PAUSE_WARNING_MS)  # after: not the collect above
