"""Login throttling: a brake on guessing passwords.

Every failed sign-in counts against the username tried and against the client
address it came from, in Django's cache (per process in the embedded default,
Redis in production, so every web process shares the counts). Once either
count reaches its limit within ``LOGIN_THROTTLE_SECONDS``, further sign-ins for
that username or from that address are refused with a 429, without the
password being checked at all, until the window has passed. A successful
sign-in clears its username's count (not its address's: one good login must
not reset an attacker's count of guesses at other accounts).

Both login forms go through it: the console's ``/accounts/login/`` and the
admin's ``/admin/login/`` (chatserver/urls.py).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from functools import wraps

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

REDIRECTS = (301, 302, 303)


def client_address(request: HttpRequest) -> str:
    """The address a request came from, as far as it can be trusted.

    Behind ``PROXY_COUNT`` proxies, each of which appends the address it saw
    to X-Forwarded-For, the client is the entry that many places from the
    right; anything further left was written by the client and is ignored.
    IPv6 clients are counted by /64, the block one subscriber gets.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def keys(request: HttpRequest, username: str) -> dict[str, tuple[str, int]]:
    """The counters one sign-in attempt touches, with each one's limit."""
    counters = {
        "address": (
            "login-failures:address:" + client_address(request),
            settings.LOGIN_FAILURES_PER_ADDRESS,
        )
    }
    username = username.strip().casefold()
    if username:
        # Hashed: a key of bounded length, whatever was typed.
        digest = hashlib.sha256(username.encode()).hexdigest()
        counters["username"] = (
            "login-failures:username:" + digest,
            settings.LOGIN_FAILURES_PER_USERNAME,
        )
    return counters


def is_blocked(counters: dict[str, tuple[str, int]]) -> bool:
    """Whether any counter has reached its limit."""
    counts = cache.get_many([key for key, _ in counters.values()])
    return any(counts.get(key, 0) >= limit for key, limit in counters.values())


def record_failure(counters: dict[str, tuple[str, int]]) -> None:
    """Count a failed sign-in; each count lives one window from its first."""
    window = settings.LOGIN_THROTTLE_SECONDS
    for key, _ in counters.values():
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, window)


def record_success(counters: dict[str, tuple[str, int]]) -> None:
    if "username" in counters:
        cache.delete(counters["username"][0])


def refusal(request: HttpRequest) -> HttpResponse:
    """The sign-in page again, saying why and for how long (429)."""
    seconds = settings.LOGIN_THROTTLE_SECONDS
    response = render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request),
            "throttled": True,
            "retry_minutes": math.ceil(seconds / 60),
            "next": request.POST.get("next", "") or request.GET.get("next", ""),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def throttled(view):
    """Wrap a login view: refuse sign-ins once too many have failed, and
    count the ones that fail (any POST that does not end logged in and
    redirected)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = request.POST.get("username", "")
        counters = keys(request, username if isinstance(username, str) else "")
        if is_blocked(counters):
            return refusal(request)
        response = view(request, *args, **kwargs)
        if response.status_code in REDIRECTS and request.user.is_authenticated:
            record_success(counters)
        else:
            record_failure(counters)
        return response

    return wrapped
