"""Login throttling: a brake on guessing passwords.

Every sign-in counts against the username tried and against the client
address it came from, in Django's cache (per process in the embedded default,
Redis in production, so every web process shares the counts). Once either
count passes its limit within ``LOGIN_THROTTLE_SECONDS``, sign-ins for that
username or from that address are refused with a 429, without the password
being checked at all, until the window has passed. A successful sign-in
takes its attempt back and clears its username's count (not its address's:
one good login must not reset an attacker's count of guesses at other
accounts).

Why not django-axes (docs/security.md): axes checks for a lockout, then
checks the password, then counts the failure: thirty guesses sent at once
all pass the first step before any is counted. Here an attempt is counted
*before* the password is checked (one atomic increment per counter), so no
more than the limit are ever checked. Axes also has one limit for every
lockout parameter (we keep 10 per username and 50 per address), resets the
address's count on a success, and counts IPv6 clients per address, where one
subscriber holds a /64. The client's address is read with django-ipware.

Usernames are counted as Django authenticates them: NFKC-normalised (as the
sign-in form does: ``ｖｉｃｔｉｍ`` is ``victim``) and case-folded.

Both login forms go through it: the console's ``/accounts/login/`` and the
admin's ``/admin/login/`` (chatserver/urls.py). When the cache cannot be
reached, sign-ins are refused with a 503 that says so: never a 500, and never
an unthrottled password check.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import unicodedata
from functools import wraps

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from python_ipware import IpWare

log = logging.getLogger(__name__)

REDIRECTS = (301, 302, 303)


def client_address(request: HttpRequest) -> str:
    """The address a request came from, as far as it can be trusted: the one
    place that reads it.

    Behind ``PROXY_COUNT`` proxies, each of which appends the address it saw
    to X-Forwarded-For, the client is the entry that many places from the
    right; anything further left was written by the client and is ignored
    (python-ipware's ``proxy_count`` counts the proxies after the first, the
    one that wrote the client's address). No other header is believed. With
    no proxy, or a header shorter than the proxies, the connection's own
    peer. IPv6 clients are counted by /64, the block one subscriber gets.
    """
    address = None
    proxies = settings.PROXY_COUNT
    if proxies:
        ipware = IpWare(precedence=("HTTP_X_FORWARDED_FOR",), proxy_count=proxies - 1)
        address, _ = ipware.get_client_ip(request.META, strict=False)
    if address is None:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return request.META.get("REMOTE_ADDR", "")[:64] or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def normalised_username(username: str) -> str:
    """A username as sign-in compares it (NFKC, as Django's form), folded."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def keys(request: HttpRequest, username: str) -> dict[str, tuple[str, int]]:
    """The counters one sign-in attempt touches, with each one's limit."""
    counters = {
        "address": (
            "login-failures:address:" + client_address(request),
            settings.LOGIN_FAILURES_PER_ADDRESS,
        )
    }
    username = normalised_username(username)
    if username:
        # Hashed: a key of bounded length, whatever was typed.
        digest = hashlib.sha256(username.encode(errors="replace")).hexdigest()
        counters["username"] = (
            "login-failures:username:" + digest,
            settings.LOGIN_FAILURES_PER_USERNAME,
        )
    return counters


def take_attempt(counters: dict[str, tuple[str, int]]) -> bool:
    """Count one attempt on every counter, atomically, before the password
    is checked; whether it is within every limit. Each count lives one
    window from its first attempt."""
    window = settings.LOGIN_THROTTLE_SECONDS
    allowed = True
    for key, limit in counters.values():
        if cache.add(key, 1, window):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between the two calls
                cache.set(key, 1, window)
                count = 1
        allowed = allowed and count <= limit
    return allowed


def give_back(counters: dict[str, tuple[str, int]]) -> None:
    """A successful sign-in: its username starts afresh, and its attempt no
    longer counts against its address."""
    if "username" in counters:
        cache.delete(counters["username"][0])
    try:
        cache.decr(counters["address"][0])
    except ValueError:  # the window ended meanwhile
        pass


def refusal(request: HttpRequest, status: int = 429) -> HttpResponse:
    """The sign-in page again, saying why and for how long (429), or that
    sign-in is unavailable for a moment (503). The username typed stays."""
    seconds = settings.LOGIN_THROTTLE_SECONDS if status == 429 else 30
    form = AuthenticationForm(
        request, initial={"username": request.POST.get("username", "")}
    )
    response = render(
        request,
        "registration/login.html",
        {
            "form": form,
            "throttled": status == 429,
            "unavailable": status == 503,
            "retry_minutes": math.ceil(seconds / 60),
            "next": request.POST.get("next", "") or request.GET.get("next", ""),
        },
        status=status,
    )
    response["Retry-After"] = str(seconds)
    return response


def throttled(view):
    """Wrap a login view: count every sign-in before it is checked, refuse
    those over a limit, and take back the attempts that succeed."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = request.POST.get("username", "")
        counters = keys(request, username if isinstance(username, str) else "")
        try:
            allowed = take_attempt(counters)
        except Exception:  # the cache (Redis) is down: no unthrottled guess
            log.exception("login throttle unavailable: sign-in refused for now")
            return refusal(request, status=503)
        if not allowed:
            return refusal(request)
        response = view(request, *args, **kwargs)
        if response.status_code in REDIRECTS and request.user.is_authenticated:
            try:
                give_back(counters)
            except Exception:  # signed in; the count lapses with its window
                log.exception("login throttle could not clear a count")
        return response

    return wrapped
