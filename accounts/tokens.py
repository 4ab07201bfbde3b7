"""Personal API token secrets: generation and hashing (only the hash is stored)."""

import hashlib
import secrets

TOKEN_PREFIX = "acp_"  # noqa: S105 (a public prefix, not a secret)


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_display_prefix(secret: str) -> str:
    return secret[: len(TOKEN_PREFIX) + 6]
