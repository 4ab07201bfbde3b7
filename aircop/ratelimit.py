"""Request-rate limits: per user and per client IP, counted in Django's cache.

A limit is a scope (``login``, ``api_token_create``, ``message_send``, ``search``) with a rate
per dimension, from ``settings.AIRCOP_RATE_LIMITS``::

    {"message_send": {"user": "30/m", "ip": "300/m"}}

A rate is ``<count>/<period>``, the period a number of seconds, minutes, hours or days
(``"10/5m"``: ten per five minutes). Each dimension counts in a fixed window of its period;
the first dimension over its count refuses the request with :class:`RateLimited`, which
carries the seconds until its window ends (``Retry-After``). Pages answer the 429 page
(:func:`limit_page`); an API operation calls :func:`hit` first and the API answers a JSON
body (the handler in aircop/api.py).

The counters live in the ``ratelimit`` cache: in-process memory in the embedded default, Redis
when ``REDIS_URL`` is set, so that every ASGI process counts together.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.shortcuts import render

CACHE_ALIAS = "ratelimit"
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.match(text)
        if not match:
            raise ValueError(f"Not a rate: {text!r} (expected e.g. '30/m' or '10/5m').")
        count, multiplier, unit = match.groups()
        seconds = int(multiplier or 1) * _UNIT_SECONDS[unit]
        if seconds <= 0:
            raise ValueError(f"Not a rate: {text!r} (the period must be positive).")
        return cls(count=int(count), seconds=seconds)


class RateLimited(Exception):
    """Too many requests in ``scope``; try again after ``retry_after`` seconds."""

    def __init__(self, scope: str, retry_after: int):
        super().__init__(f"Rate limit of {scope} reached; retry after {retry_after} s.")
        self.scope = scope
        self.retry_after = retry_after


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or, behind ``AIRCOP_TRUSTED_PROXY_COUNT`` proxies
    that each append to ``X-Forwarded-For``, the address the outermost trusted one saw."""
    proxies = settings.AIRCOP_TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def _acting_user_key(request) -> str | None:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"id:{user.pk}"
    return None


def _login_name_key(request) -> str | None:
    name = request.POST.get("username", "").strip().casefold() if request.method == "POST" else ""
    return f"name:{name}" if name else None


def identities(request, scope: str) -> dict[str, str]:
    """The counters a request of ``scope`` counts in, by dimension."""
    found = {"ip": f"ip:{client_ip(request)}"}
    user = _login_name_key(request) if scope == "login" else _acting_user_key(request)
    if user:
        found["user"] = user
    return found


def _counter_key(scope: str, dimension: str, identity: str, rate: Rate, window: int) -> str:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"rl:{scope}:{dimension}:{digest}:{rate.seconds}:{window}"


def _count(key: str, timeout: int) -> int:
    cache = caches[CACHE_ALIAS]
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new window starts with this request
        cache.add(key, 1, timeout=timeout)
        return 1


def hit(request, scope: str) -> None:
    """Count this request in each of its dimensions; raise :class:`RateLimited` when one is
    over its limit (every dimension is counted, so a refused request still counts)."""
    limits = settings.AIRCOP_RATE_LIMITS.get(scope) or {}
    now = time.time()
    waits = []
    for dimension, identity in identities(request, scope).items():
        text = limits.get(dimension)
        if not text:
            continue
        rate = Rate.parse(text)
        window = int(now // rate.seconds)
        key = _counter_key(scope, dimension, identity, rate, window)
        if _count(key, timeout=rate.seconds + 1) > rate.count:
            waits.append(max(1, math.ceil((window + 1) * rate.seconds - now)))
    if waits:
        raise RateLimited(scope, max(waits))


def rate_limited_page(request, error: RateLimited):
    response = render(
        request,
        "429.html",
        {"retry_after": error.retry_after, "retry_minutes": math.ceil(error.retry_after / 60)},
        status=429,
    )
    response["Retry-After"] = str(error.retry_after)
    return response


def limit_page(scope: str, methods: Iterable[str] = ("POST",)) -> Callable:
    """Decorate a page's view: requests of ``methods`` count in ``scope``; over the limit the
    view is not called and the 429 page answers."""
    methods = frozenset(methods)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                try:
                    hit(request, scope)
                except RateLimited as error:
                    return rate_limited_page(request, error)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
