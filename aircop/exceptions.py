"""The one small hierarchy of domain errors.

Services raise these; the edges turn them into form errors (views) or 4xx
JSON bodies naming the field (API), and the websocket into an error event.
"""


class DomainError(Exception):
    """A rule of the domain refused the request. ``field`` names the input at fault."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class NotFound(DomainError):
    """The object does not exist *for this user*: never a hint that it exists."""

    status_code = 404


class Conflict(DomainError):
    """The request is valid but the state of the object forbids it (e.g. a closed operation)."""

    status_code = 409
