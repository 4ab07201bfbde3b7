"""Who may authenticate: Django's model backend, refusing blocked accounts as well.

``user_can_authenticate`` decides both the login (``authenticate``) and every later request of
an existing session (``get_user``), the websocket's included: a blocked user cannot sign in, and
a session opened before the block ends at its next request.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "blocked_at", None) is None
