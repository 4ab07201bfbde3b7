"""The authorisation matrix, generated from the URL configuration.

Every route Django resolves (pages, the django-ninja API, the Django admin) must be classified
in tests/security/routes.py. Each is requested (API: GET, PUT, PATCH, DELETE, POST; pages: GET,
DELETE, POST; the admin: GET, POST; an empty body: form-encoded, or ``{}`` for the API) as
anonymous, a member, a member of another operation, a member with the wrong role and an
administrator, and the answer must be the one its class promises. A method the route does not
accept (405 for the persona it is for) is only checked not to fail (no 5xx) for the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlparse

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from . import routes as matrix
from .conftest import QUERIES

pytestmark = pytest.mark.django_db

API_METHODS = ("GET", "PUT", "PATCH", "DELETE", "POST")
# Pages: a function view without a method decorator treats PUT and PATCH as it treats DELETE
# (like GET), so DELETE stands for them.
PAGE_METHODS = ("GET", "DELETE", "POST")
ADMIN_METHODS = ("GET", "POST")  # the admin: every page, read and (empty) submit
# The member persona runs last and POST is its last method: a POST may change the world
# (leave the operation, revoke the token) and nothing runs after it.
PERSONAS = ("anonymous", "outsider", "wrong", "staff", "member")


@dataclass(frozen=True)
class Route:
    pattern: str  # the key of routes.ROUTES
    name: str | None  # namespaced URL name, if any
    arguments: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")

    def __str__(self) -> str:
        return f"{self.name or '(no name)'} [{self.pattern}]"


def _arguments(pattern) -> tuple[str, ...]:
    if isinstance(pattern, RoutePattern):
        return tuple(re.findall(r"<(?:\w+:)?(\w+)>", str(pattern)))
    if isinstance(pattern, RegexPattern):
        return tuple(pattern.regex.groupindex)
    return ()


def _walk(patterns, prefix="", namespace=None, arguments=()):
    for entry in patterns:
        args = arguments + _arguments(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns, args)
        elif isinstance(entry, URLPattern):
            name = None
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(prefix + str(entry.pattern), name, args)


def all_routes() -> list[Route]:
    """Every URL pattern of the site, once per pattern (django-ninja registers one pattern
    per operation; operations sharing a path share its view)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        seen.setdefault(route.pattern, route)
    return list(seen.values())


ROUTES = all_routes()


def test_every_route_is_classified():
    unclassified = [str(r) for r in ROUTES if matrix.access_for(r.pattern) is None]
    assert not unclassified, (
        "Routes nobody classified in tests/security/routes.py (add each to ROUTES with its "
        "access class):\n  " + "\n  ".join(unclassified)
    )


def test_no_classification_names_a_route_that_is_gone():
    patterns = {r.pattern for r in ROUTES}
    stale = sorted(set(matrix.ROUTES) | set(matrix.GROUP_EXCEPTIONS))
    stale = [p for p in stale if p not in patterns]
    stale += [p for p in matrix.GROUPS if not any(q.startswith(p) for q in patterns)]
    assert not stale, f"Classified in tests/security/routes.py but not routed any more: {stale}"


# --- exercising each route ----------------------------------------------------------------


def _url(route: Route, world, **overrides) -> str:
    kwargs = {**world.kwargs(route.arguments, route.pattern), **overrides}
    query = f"?{urlencode(QUERIES[route.pattern])}" if route.pattern in QUERIES else ""
    if route.name:
        return reverse(route.name, kwargs=kwargs) + query
    path = route.pattern
    for key, value in kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{key}>", str(value), path)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), path)
    return "/" + path.removesuffix("$") + query


_ADMIN_ACTIONS = {"add": "add", "change": "change", "delete": "delete"}


def _admin_refuses_everyone(route: Route, method: str, world) -> bool:
    """True if the ModelAdmin behind an admin route refuses this action to a superuser (a
    read-only model): its 403 is then by design, not a fault of the matrix."""
    if not route.name or not route.name.startswith("admin:"):
        return False
    action = route.name.rsplit("_", 1)[-1]
    if action == "change" and method == "GET":
        return False  # viewing is allowed wherever the model is registered
    permission = _ADMIN_ACTIONS.get(action)
    if permission is None:
        return False
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if route.name == f"admin:{opts.app_label}_{opts.model_name}_{action}":
            request = RequestFactory().get("/")
            request.user = world.staff
            return not getattr(model_admin, f"has_{permission}_permission")(request)
    return False


def _client(world, persona: str, access) -> Client | None:
    users = {
        "anonymous": None,
        "outsider": world.outsider.user,
        "staff": world.staff,
        # the officer: a recipient of the Alert, owner of the token and the import job
        "member": world.officer.user,
        # an officer where the OCU (or the seizure's reporter) is needed
        "wrong": world.officer.user,
    }
    if persona == "member" and access.wrong is not None:
        users["member"] = world.ocu.user
    if persona == "wrong" and access.wrong is None:
        return None
    client = Client()
    if users[persona] is not None:
        client.force_login(users[persona])
    return client


def _request(client: Client, method: str, url: str, *, api: bool):
    call = getattr(client, method.lower())
    if api and method in ("POST", "PUT", "PATCH"):
        return call(url, data="{}", content_type="application/json")
    if method == "POST":
        return call(url, data={})
    return call(url)


def _location(response) -> str:
    return urlparse(response.get("Location", "")).path


def _verdict(route: Route, access, persona: str, response, refused_by_design=False) -> str | None:
    """None if the answer is the one the class promises, else what is wrong."""
    status = response.status_code
    expected = access.expected(persona)
    login = reverse(settings.LOGIN_URL) if ":" in settings.LOGIN_URL else settings.LOGIN_URL
    if status >= 500:
        return f"server error {status}"
    if expected == matrix.ALLOW:
        if status == 403 and refused_by_design:
            return None
        if status in (401, 403, 404):
            return f"refused with {status}"
        sent_to_login = status == 302 and _location(response) in (login, reverse("admin:login"))
        if sent_to_login and access.anonymous != matrix.ALLOW:
            return "sent to the login page"
        return None
    if expected == matrix.LOGIN:
        if route.is_api:
            return None if status == 401 else f"{status}, expected 401"
        ok = status == 302 and _location(response) == login and "next=" in response["Location"]
        return None if ok else f"{status} {_location(response)}, expected a redirect to {login}"
    if expected == matrix.ADMIN_LOGIN:
        # The admin's login page leads to the app's two-step login (accounts.login_views.
        # admin_login); LoginRequiredMiddleware sends an anonymous visitor there directly.
        ok = status == 302 and _location(response) in (reverse("admin:login"), login)
        return None if ok else f"{status} {_location(response)}, expected the admin login"
    if expected == matrix.FORBIDDEN:
        return None if status == 403 else f"{status}, expected 403"
    if expected == matrix.NOT_FOUND:
        return None if status == 404 else f"{status}, expected 404"
    raise AssertionError(f"unknown expectation {expected!r}")


def _reference_persona(access) -> str | None:
    """The persona a route is for: the one whose 405 means the method is not accepted."""
    for persona in ("member", "staff", "anonymous"):
        if access.expected(persona) == matrix.ALLOW:
            return persona
    return None


def exercise(route: Route, world) -> tuple[list[str], int]:
    """Run every persona and method on a route; (the failures, the number of cases run)."""
    methods = API_METHODS if route.is_api else ADMIN_METHODS if route.is_admin else PAGE_METHODS
    failures, cases = [], 0
    answers: dict[tuple[str, str], object] = {}
    urls: dict[str, str] = {}
    # A persona's user may differ between the methods of one path (its GET for members, its
    # PATCH for correctors): one client per persona and kind of access.
    clients: dict[tuple[str, bool], Client | None] = {}
    for persona in PERSONAS:
        # Each persona's URL is made when its turn comes: the world is as the route needs it
        # (e.g. the member an administration route acts on is still a member).
        url = urls[persona] = _url(route, world)
        for method in methods:
            access = matrix.access_for_method(route.pattern, method) or matrix.NOWHERE
            key = (persona, access.wrong is not None)
            if key not in clients:
                clients[key] = _client(world, persona, access)
            client = clients[key]
            if client is None:
                continue
            answers[persona, method] = _request(client, method, url, api=route.is_api)
            cases += 1
    for method in methods:
        access = matrix.access_for_method(route.pattern, method)
        reference = _reference_persona(access) if access else "member"
        reference_answer = answers.get((reference, method)) if reference else None
        accepted = reference_answer is None or reference_answer.status_code != 405
        if access is None:  # a method not classified for this path (routes.py gives a dict)
            if accepted and reference_answer is not None:
                failures.append(
                    f"{method}: accepted ({reference_answer.status_code}) but its "
                    "method is not classified"
                )
            continue
        for persona in PERSONAS:
            response = answers.get((persona, method))
            if response is None:
                continue
            if not accepted:
                if response.status_code >= 500:
                    failures.append(f"{method} as {persona}: {response.status_code}")
                continue
            by_design = persona == "staff" and _admin_refuses_everyone(route, method, world)
            problem = _verdict(route, access, persona, response, by_design)
            if problem:
                failures.append(f"{method} {urls[persona]} as {persona} ({access.name}): {problem}")
    return failures, cases


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name or r.pattern)
def test_route_answers_each_persona_as_classified(route, world):
    if matrix.access_for(route.pattern) is None:
        pytest.fail(f"{route} is not classified in tests/security/routes.py")
    failures, cases = exercise(route, world)
    assert cases
    assert not failures, f"{route}:\n  " + "\n  ".join(failures)


# --- ids beyond the database's range ------------------------------------------------------

TOO_LARGE = str(2**64)
ID_ARGUMENTS = {
    "message_id",
    "seizure_id",
    "job_id",
    "token_id",
    "membership_id",
    "object_id",
    "id",
}


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if ID_ARGUMENTS & set(r.arguments)],
    ids=lambda r: r.name or r.pattern,
)
def test_an_id_too_large_for_the_database_is_not_found(route, world):
    """2**64 names no row: 404 (the admin: its "does not exist" redirect), never an overflow
    of the database driver."""
    access = matrix.access_for_method(route.pattern, "GET") or matrix.NOWHERE
    persona = "staff" if route.is_admin else "member"
    client = _client(world, persona, access)
    url = _url(route, world, **dict.fromkeys(ID_ARGUMENTS & set(route.arguments), TOO_LARGE))
    # The admin: 403 where its ModelAdmin refuses the action to everyone (read-only models).
    answers = (302, 403, 404, 405) if route.is_admin else (302, 404, 405)
    for method in ("GET", "POST"):
        response = _request(client, method, url, api=route.is_api)
        assert response.status_code in answers, (method, url, response.status_code)


# --- exports: the same routes with ?format= ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("anonymous", 302), ("outsider", 404), ("member", 200), ("staff", 200)],
)
def test_an_operations_export_answers_like_its_page(world, fmt, persona, expected):
    client = _client(world, persona, matrix.MEMBER_OR_STAFF)
    url = reverse("statistics:results", kwargs={"slug": world.operation.slug})
    response = client.get(url, {"format": fmt})
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Disposition"].startswith("attachment;")
        assert world.operation.slug in response["Content-Disposition"]


@pytest.mark.parametrize(("persona", "sees"), [("outsider", False), ("member", True)])
def test_the_statistics_export_holds_only_the_users_seizures(world, persona, sees):
    client = _client(world, persona, matrix.SIGNED_IN)
    response = client.get(
        reverse("statistics:statistics"),
        {"rows": "airport", "columns": "operation", "format": "csv"},
    )
    assert response.status_code == 200
    assert ("DSS" in response.content.decode()) is sees
