"""The one small hierarchy of domain errors.

Services raise these; the edges turn them into form errors (views) or 4xx
JSON bodies naming the field (API), and the websocket into an error event.
"""

from django.http import Http404


class DomainError(Exception):
    """A rule of the domain refused the request. ``field`` names the input at fault."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class NotFound(DomainError, Http404):
    """The object does not exist *for this user*: never a hint that it exists.

    Also an Http404, so a page that lets it through answers 404, never 500."""

    status_code = 404


class Conflict(DomainError):
    """The request is valid but the state of the object forbids it (e.g. a closed operation)."""

    status_code = 409
