from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and operations")

    def ready(self):
        from .audit import login as login_audit

        login_audit.connect()
        from . import sessions  # noqa: F401 (stamps every login's session)

        if settings.PRODUCTION:
            # Production refuses to start without its encryption keys (ImproperlyConfigured),
            # rather than failing on the first message.
            from aircop import crypto

            crypto.get_keyring()
            crypto.get_index_key()
