"""Identifiers that come from outside: API parameters and bodies.

Ids are 64-bit signed integers (``BigAutoField``). Django answers "no row" for an exact lookup
beyond that range, but a comparison (``id__gt=after``) reaches the database driver, which
overflows (a 500). The API's schemas therefore bound every integer id with ``le=MAX_ID``: a
larger number is a field error (422), documented in the OpenAPI schema.
"""

MAX_ID = 2**63 - 1
