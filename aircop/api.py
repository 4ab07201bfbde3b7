"""The JSON API under /api/v1/: one NinjaAPI, routers from the apps, errors naming the field.

Every error is JSON ``{"detail": ...}``; an unexpected exception is logged and answered as a
plain 500 body, never a traceback (whatever DEBUG says)."""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, ValidationError

from accounts.api import router as accounts_router
from accounts.audit.api import router as audit_router
from accounts.manage_api import router as manage_router
from aircop.api_auth import SCOPED
from aircop.exceptions import DomainError
from aircop.ratelimit import RateLimited
from messaging.api import router as messaging_router
from seizures.api import router as seizures_router
from seizures.export_api import router as export_router
from seizures.import_api import router as seizure_import_router
from seizures.photo_api import router as seizure_photos_router
from seizures.stats_api import router as statistics_router


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """Every error of the API: `detail` for people; `field` and `code` for a rule of the
    domain; `errors`, one per field, for a malformed request (422) or a field's rule (400)."""

    detail: str
    field: str | None = None
    code: str | None = None
    errors: list[FieldErrorOut] | None = None
    retry_after: int | None = Field(
        None, description="429: seconds until the rate limit's window ends (as `Retry-After`)"
    )


ERRORS = {
    "400": "A rule of the domain refused the request (`field` names the input)",
    "401": "Authentication required: a session or a Bearer token",
    "403": "Your role in this operation does not allow this",
    "404": "No such object among yours (an operation, a message, a seizure you may see)",
    "409": "The state of the object forbids it (e.g. a closed operation)",
    "422": "Malformed request: `errors` names each field",
    "429": "Too many requests: a rate limit (`x-rate-limit`, settings.AIRCOP_RATE_LIMITS) of yours "
    "or of your address; `Retry-After` says when to try again",
}


class AircopApi(NinjaAPI):
    """The NinjaAPI, with the errors every endpoint may answer in its OpenAPI document."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["components"].setdefault("schemas", {})["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        field_error = schema["components"]["schemas"]["ErrorOut"].pop("$defs", {})
        schema["components"]["schemas"].update(field_error)
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                # ninja keys its responses by int (201, 400): as strings, one key per status
                # (an int 400 beside a str "400" would be two equal keys in the JSON).
                operation["responses"] = {str(k): v for k, v in operation["responses"].items()}
                for status in _error_statuses(method, operation):
                    operation["responses"].setdefault(
                        status,
                        {
                            "description": ERRORS[status],
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ErrorOut"}
                                }
                            },
                        },
                    )
        return schema


def _error_statuses(method: str, operation: dict) -> list[str]:
    """401 everywhere; 400, 404 and 422 with any input (it may name an operation, a message);
    403 when the path names an object or the request writes; 409 for writes; 429 where the
    operation counts in a rate limit (``openapi_extra={"x-rate-limit": scope}``)."""
    parameters = operation.get("parameters", [])
    has_input = bool(parameters) or "requestBody" in operation
    in_path = any(p.get("in") == "path" for p in parameters)
    statuses = ["401"]
    if has_input:
        statuses += ["400", "404", "422"]
    if in_path or method != "get":
        statuses.append("403")
    if method != "get":
        statuses.append("409")
    if operation.get("x-rate-limit"):
        statuses.append("429")
    return statuses


api = AircopApi(
    title="aircop API",
    version="1",
    description="Operational messaging for joint airport task forces. "
    "Authenticate with a session (browser) or `Authorization: Bearer <token>` "
    "(create tokens on your profile page).",
    auth=SCOPED,  # the path's objects are checked before the body is read (api_auth.py)
    urls_namespace="api",
)
logger = logging.getLogger(__name__)
api.add_router("/", accounts_router)
api.add_router("/", manage_router)
api.add_router("/", messaging_router)
api.add_router("/", seizure_import_router)  # before the register: /seizures/import
api.add_router("/", seizures_router)
api.add_router("/", seizure_photos_router)
api.add_router("/", statistics_router)
api.add_router("/", audit_router)
api.add_router("/", export_router)


KINDS = ("free_text", "alert", "response", "seizure")


def _field_of(loc) -> str:
    # ninja locations look like ("body", "payload", "to", "users", 0) or ("query", "after"):
    # drop the envelope (where, and the name of the body parameter) and keep the field path.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        where = parts.pop(0)
        if where in ("body", "form") and len(parts) > 1 and parts[0] == "payload":
            parts.pop(0)
        if parts and parts[0] in KINDS:  # the tag of the kind's schema (discriminated union)
            parts.pop(0)
    return ".".join(parts) or "request"


def _is_kind_error(error: dict) -> bool:
    """pydantic's discriminated-union errors: no `kind`, or a `kind` we do not know."""
    return str(error.get("type", "")).startswith("union_tag") or "'kind'" in error.get("msg", "")


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [
        {
            "field": "kind" if _is_kind_error(e) else _field_of(e.get("loc", ())),
            "message": e.get("msg", ""),
        }
        for e in exc.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    body = {"detail": exc.message, "field": exc.field, "code": exc.code}
    if exc.field:
        body["errors"] = [{"field": exc.field, "message": exc.message}]
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return api.create_response(
        request, {"detail": "Your role in this operation does not allow this."}, status=403
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(
        request, {"detail": "Authentication required: a session or a Bearer token."}, status=401
    )


@api.exception_handler(RateLimited)
def on_rate_limited(request, exc: RateLimited):
    response = api.create_response(
        request,
        {
            "detail": f"Too many requests: try again in {exc.retry_after} seconds.",
            "code": "rate_limited",
            "retry_after": exc.retry_after,
        },
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Exception)
def on_unexpected_error(request, exc: Exception):
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return api.create_response(request, {"detail": "Internal server error."}, status=500)
