"""The authorisation matrix: every HTTP and websocket route of the site, classified.

A route is keyed by its pattern as Django resolves it (the prefixes of its includes joined,
e.g. ``o/<slug:slug>/messages/<int:message_id>/``). Its value is an ``Access``, or a dict of
``{method: Access}`` when the methods of one path differ (the API's GET and PATCH of a
seizure). A whole include can be classified at once in ``GROUPS`` (the Django admin), with
``GROUP_EXCEPTIONS`` for the few routes inside it that answer otherwise.

tests/security/test_matrix.py walks the URL configuration and the websocket routes; a route
missing here fails the run with its name and pattern, and so does an entry here that matches
no route any more. To classify a new route, add one line below (see docs/architecture.md,
"The authorisation matrix"); if its URL has a new keyword argument, give it a value in
``tests/security/conftest.py`` (``World.kwargs``).
"""

from __future__ import annotations

from dataclasses import dataclass

# The personas every route is exercised as (tests/security/conftest.py builds them):
#   anonymous - not signed in
#   member    - the persona the route is for: an officer of the operation for member routes
#               (a recipient of the message, owner of the token and the import job); its OCU
#               for OCU routes
#   outsider  - an active member of another operation only
#   wrong     - an officer of the operation on a route for its OCUs (and not the seizure's
#               reporter); on member routes there is no wrong role and it is not run
#   staff     - an administrator (is_staff, superuser) who is a member of no operation

ALLOW = "allow"  # anything but 401/403/404/5xx: 2xx, 3xx, 400/409/422 for an empty body
LOGIN = "login"  # a page redirects to the login page; the API answers 401
# The Django admin redirects to its login page, which leads to the app's two-step login
# (anonymous visitors are sent to the app's login at once).
ADMIN_LOGIN = "admin_login"
FORBIDDEN = "403"  # a member whose role does not allow it
NOT_FOUND = "404"  # the route (or the object) does not exist for this persona


@dataclass(frozen=True)
class Access:
    name: str
    description: str
    anonymous: str
    member: str
    outsider: str
    staff: str
    wrong: str | None = None  # None: no wrong role for this access

    def expected(self, persona: str) -> str | None:
        return getattr(self, persona)


PUBLIC = Access("public", "anyone, signed in or not", ALLOW, ALLOW, ALLOW, ALLOW, wrong=None)
SIGNED_IN = Access(
    "signed_in",
    "any signed-in user (what it shows is scoped to the user)",
    LOGIN,
    ALLOW,
    ALLOW,
    ALLOW,
)
OWNER = Access(
    "owner",
    "the signed-in user who owns the object (an API token, an import job); "
    "anyone else, administrators included, 404",
    LOGIN,
    ALLOW,
    NOT_FOUND,
    NOT_FOUND,
)
MEMBER = Access(
    "member",
    "an active member of the operation (of the message: its sender or a recipient); "
    "administrators are not members: 404 (messages are need-to-know)",
    LOGIN,
    ALLOW,
    NOT_FOUND,
    NOT_FOUND,
)
MEMBER_OR_STAFF = Access(
    "member_or_staff",
    "an active member of the operation, or an administrator (the register "
    "and the results, not the messages)",
    LOGIN,
    ALLOW,
    NOT_FOUND,
    ALLOW,
)
OCU = Access(
    "ocu",
    "an OCU of the operation; its other members 403, anyone else 404",
    LOGIN,
    ALLOW,
    NOT_FOUND,
    NOT_FOUND,
    wrong=FORBIDDEN,
)
CORRECTOR = Access(
    "corrector",
    "who may correct a seizure: its reporter, the OCUs of its operation, "
    "administrators; other members 403, anyone else 404",
    LOGIN,
    ALLOW,
    NOT_FOUND,
    ALLOW,
    wrong=FORBIDDEN,
)
ADMINISTERS = Access(
    "administers",
    "who administers the operation: its OCU lead, or an administrator; its other members 404 "
    "like anyone else (operation administration gives no hint)",
    LOGIN,
    ALLOW,
    NOT_FOUND,
    ALLOW,
    wrong=NOT_FOUND,
)
STAFF_ONLY = Access(
    "staff_only",
    "an administrator (is_staff): creating operations, their status, users; anyone else 404",
    LOGIN,
    NOT_FOUND,
    NOT_FOUND,
    ALLOW,
)
AUDITOR = Access(
    "auditor",
    "who reads the audit trail: an administrator (all of it), an OCU of any operation (the "
    "events of their operations); other members 404",
    LOGIN,
    ALLOW,
    ALLOW,  # the outsider is the OCU of the other operation
    ALLOW,
    wrong=NOT_FOUND,
)
STAFF = Access(
    "staff",
    "an administrator (is_staff): the Django admin; anyone else is sent to its login",
    ADMIN_LOGIN,
    ADMIN_LOGIN,
    ADMIN_LOGIN,
    ALLOW,
)
ADMIN_NO_PAGE = Access(
    "admin_no_page",
    "an admin route that leads nowhere even for an administrator (404): the catch-all of "
    'unknown admin URLs, and "view on site" (no model of aircop has a public page)',
    ADMIN_LOGIN,
    ADMIN_LOGIN,
    ADMIN_LOGIN,
    NOT_FOUND,
)
NOWHERE = Access(
    "nowhere",
    "answers 404 to everyone (a route that leads nowhere in this site)",
    NOT_FOUND,
    NOT_FOUND,
    NOT_FOUND,
    NOT_FOUND,
)

ROUTES: dict[str, Access | dict[str, Access]] = {
    # --- accounts ---------------------------------------------------------------------------
    "": SIGNED_IN,  # home: redirects to the last operation
    "accounts/login/": PUBLIC,
    "accounts/login/code/": PUBLIC,  # the second step; without a pending login, to step one
    "accounts/login/enrol/": PUBLIC,  # first enrolment; likewise
    "accounts/recovery-codes/": SIGNED_IN,  # POST only: the user's own new codes
    "accounts/invitation/<str:secret>/": PUBLIC,  # the secret of the link is the credential
    "accounts/logout/": PUBLIC,  # POST only; signs out whoever is signed in
    "accounts/password/": SIGNED_IN,
    "accounts/password/done/": SIGNED_IN,
    "accounts/profile/": SIGNED_IN,
    "accounts/tokens/": SIGNED_IN,
    "accounts/tokens/<int:token_id>/revoke/": OWNER,
    "accounts/operations/": SIGNED_IN,
    "accounts/operations/<slug:slug>/leave/": MEMBER,
    "accounts/language/": PUBLIC,
    # --- the audit trail and operation administration ---------------------------------------
    "audit/": AUDITOR,
    "manage/operations/": SIGNED_IN,  # the operations the user administers (maybe none)
    "manage/operations/new/": STAFF_ONLY,
    "manage/operations/<slug:slug>/": ADMINISTERS,
    "manage/operations/<slug:slug>/status/": STAFF_ONLY,
    "manage/operations/<slug:slug>/members/": ADMINISTERS,
    "manage/operations/<slug:slug>/members/import/": ADMINISTERS,
    "manage/operations/<slug:slug>/members/<int:membership_id>/role/": ADMINISTERS,
    "manage/operations/<slug:slug>/members/<int:membership_id>/remove/": ADMINISTERS,
    "manage/operations/<slug:slug>/invitations/": ADMINISTERS,
    "manage/users/": STAFF_ONLY,
    "manage/users/<str:username>/deactivate/": STAFF_ONLY,
    # --- messaging pages ----------------------------------------------------------------------
    "o/<slug:slug>/": MEMBER,
    "o/<slug:slug>/sent/": MEMBER,
    "o/<slug:slug>/search/": MEMBER,
    "o/<slug:slug>/compose/": MEMBER,
    "o/<slug:slug>/alerts/new/": MEMBER,
    "o/<slug:slug>/seizures/new/": MEMBER,
    "o/<slug:slug>/follow-up/": OCU,
    "o/<slug:slug>/messages/<int:message_id>/": MEMBER,
    "o/<slug:slug>/messages/<int:message_id>/respond/": MEMBER,
    "o/<slug:slug>/messages/<int:message_id>/acknowledge/": MEMBER,
    "o/<slug:slug>/messages/<int:message_id>/forward/": MEMBER,
    "o/<slug:slug>/messages/<int:message_id>/attachments/<uuid:uid>/": MEMBER,
    "o/<slug:slug>/messages/<int:message_id>/attachments/<uuid:uid>/thumbnail/": MEMBER,
    # --- seizures, import, figures -------------------------------------------------------
    "seizures/import/": SIGNED_IN,
    "seizures/import/<int:job_id>/": OWNER,
    "seizures/import/template.<str:fmt>": SIGNED_IN,
    "seizures/": SIGNED_IN,
    "seizures/new/": SIGNED_IN,
    "seizures/<int:seizure_id>/": MEMBER_OR_STAFF,
    "seizures/<int:seizure_id>/edit/": CORRECTOR,
    "seizures/<int:seizure_id>/photos/<uuid:uid>/": MEMBER_OR_STAFF,
    "seizures/<int:seizure_id>/photos/<uuid:uid>/thumbnail/": MEMBER_OR_STAFF,
    "exports/": SIGNED_IN,  # the user's own exports
    "exports/new/": SIGNED_IN,  # an operation's results: 404 unless the user may see them
    "exports/<uuid:uid>/": OWNER,
    "exports/<uuid:uid>/download/": OWNER,
    "o/<slug:slug>/results/": MEMBER_OR_STAFF,
    "statistics/": SIGNED_IN,
    # --- the JSON API -------------------------------------------------------------------------
    "api/v1/": NOWHERE,  # django-ninja's root: no view behind it
    "api/v1/openapi.json": PUBLIC,
    "api/v1/docs": PUBLIC,
    "api/v1/operations": SIGNED_IN,
    "api/v1/operations/<slug>/members": MEMBER,
    "api/v1/operations/<slug>/messages": MEMBER,
    "api/v1/operations/<slug>/messages/multipart": MEMBER,
    "api/v1/operations/<slug>/inbox": MEMBER,
    "api/v1/operations/<slug>/messages/search": MEMBER,
    "api/v1/operations/<slug>/follow-up": OCU,
    "api/v1/operations/<slug>/results": MEMBER_OR_STAFF,
    "api/v1/messages/<message_id>": MEMBER,
    "api/v1/messages/<message_id>/attachments/<uid>": MEMBER,
    "api/v1/messages/<message_id>/attachments/<uid>/thumbnail": MEMBER,
    "api/v1/messages/<message_id>/ack": MEMBER,
    "api/v1/messages/<message_id>/forward": MEMBER,
    "api/v1/seizures": SIGNED_IN,
    "api/v1/seizures/import": SIGNED_IN,
    "api/v1/seizures/pivot": SIGNED_IN,
    "api/v1/seizures/<int:seizure_id>": {"GET": MEMBER_OR_STAFF, "PATCH": CORRECTOR},
    "api/v1/seizures/multipart": SIGNED_IN,
    "api/v1/seizures/<int:seizure_id>/photos": CORRECTOR,
    "api/v1/seizures/<int:seizure_id>/photos/<uid>": {
        "GET": MEMBER_OR_STAFF,
        "DELETE": CORRECTOR,
    },
    "api/v1/seizures/<int:seizure_id>/photos/<uid>/thumbnail": MEMBER_OR_STAFF,
    "api/v1/audit": AUDITOR,
    "api/v1/exports": SIGNED_IN,
    "api/v1/exports/<uid>": OWNER,
    "api/v1/exports/<uid>/download": OWNER,
    "api/v1/manage/operations": {"GET": SIGNED_IN, "POST": STAFF_ONLY},
    "api/v1/manage/operations/<slug>/status": STAFF_ONLY,
    "api/v1/manage/operations/<slug>/members": ADMINISTERS,
    "api/v1/manage/operations/<slug>/members/import": ADMINISTERS,
    "api/v1/manage/operations/<slug>/members/<username>": ADMINISTERS,
    "api/v1/manage/operations/<slug>/invitations": ADMINISTERS,
    "api/v1/manage/users/<username>/deactivate": STAFF_ONLY,
}

# Whole includes classified at once: a route whose pattern starts with the prefix.
GROUPS: dict[str, Access] = {
    "admin/": STAFF,
}
# Routes inside a group that answer otherwise (full pattern).
GROUP_EXCEPTIONS: dict[str, Access] = {
    "admin/login/": PUBLIC,
    "admin/logout/": PUBLIC,  # POST only; anyone else is sent to the admin's index
    "admin/r/<path:content_type_id>/<path:object_id>/": ADMIN_NO_PAGE,
    "admin/(?P<url>.*)$": ADMIN_NO_PAGE,
}
# In the admin, an administrator may also get 403 where a ModelAdmin refuses an action to
# everyone (read-only audit events, messages, seizures: they change through services only);
# test_matrix.py checks the ModelAdmin does refuse it to a superuser.

# Websocket routes (messaging/websocket_urls.py), exercised by test_websocket_matrix.py.
WEBSOCKET_ROUTES: dict[str, Access] = {
    "ws/": SIGNED_IN,  # each event is delivered only to active members of its operation
}


def access_for(route: str) -> Access | dict[str, Access] | None:
    if route in ROUTES:
        return ROUTES[route]
    if route in GROUP_EXCEPTIONS:
        return GROUP_EXCEPTIONS[route]
    for prefix, access in GROUPS.items():
        if route.startswith(prefix):
            return access
    return None


def access_for_method(route: str, method: str) -> Access | None:
    access = access_for(route)
    if isinstance(access, dict):
        return access.get(method)
    return access
