"""What a failed HTTP call to a gateway means for the text it carried.

A send that never left (refused, unresolvable, no TLS handshake, a connect
timeout) is retried; one that may have reached the gateway (reset, cut off,
no answer in time) is never sent again automatically: texting the lead twice
is worse than asking an agent to check. One rule for every gateway whose SDK
speaks through ``requests``.
"""

from __future__ import annotations

import requests
from urllib3.exceptions import NewConnectionError

from carriers.base import CarrierError, ErrorKind


def never_sent(exc: Exception) -> bool:
    """Whether a ``requests`` failure happened before the request left."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        return isinstance(reason, NewConnectionError)
    return False


def network_error(gateway: str, exc: Exception) -> CarrierError:
    """A failure to talk to ``gateway`` (its name, as agents read it)."""
    if never_sent(exc):
        return CarrierError(
            ErrorKind.RETRYABLE, "", f"{gateway} could not be reached ({exc})."
        )
    return CarrierError(
        ErrorKind.UNCERTAIN,
        "",
        f"{gateway} did not answer in time: the text may have been sent. "
        "Check with the lead before sending it again.",
    )
