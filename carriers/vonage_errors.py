"""Vonage's errors as carrier-neutral CarrierErrors (``carriers.vonage``).

Codes are the Messages API's (its OpenAPI description's ``x-errors``): a
status webhook gives one as ``error.title`` ("1240"), an API answer as the
fragment of its RFC 7807 ``type`` (".../api-errors/messages#1430").
"""

from __future__ import annotations

from typing import Any

import requests
from pydantic import ValidationError
from vonage_http_client import HttpRequestError

from carriers import http
from carriers.base import CarrierError, ErrorKind

ADMIN = "an admin must check the Vonage account"


def _all(kind: ErrorKind, reason: str, *codes: str) -> dict:
    return {code: (kind, reason) for code in codes}


# How the domain treats each code and what the agent is told. Codes not listed
# fail the text with Vonage's own words.
ERRORS: dict[str, tuple[ErrorKind, str]] = {
    "1240": (ErrorKind.OPTED_OUT, "The recipient has opted out (replied STOP)."),
    # "Number barred": blocklisted, it may not receive messages. Treated as an
    # opt-out, the safe side: texting it again cannot work anyway.
    "1050": (ErrorKind.OPTED_OUT, "The number is barred: it may not receive texts."),
    **_all(
        ErrorKind.INVALID_NUMBER, "This is not a valid phone number.", "1170", "1430"
    ),
    "1190": (ErrorKind.INVALID_NUMBER, "The number is no longer in service."),
    **_all(
        ErrorKind.INVALID_NUMBER,
        "This number cannot be reached (unknown prefix or network).",
        "1040", "1250", "1300",
    ),
    "1310": (ErrorKind.INVALID_NUMBER, "This phone cannot receive these texts."),
    **_all(
        ErrorKind.RETRYABLE,
        "Vonage is busy or had an internal error.",
        "1000", "1030", "1100", "1241", "1331",
    ),
    "1180": (ErrorKind.PERMANENT, "The phone is switched off or out of coverage."),
    "1220": (ErrorKind.PERMANENT, "The phone was busy."),
    "1230": (ErrorKind.PERMANENT, "A network failure stopped it: send it again."),
    "1200": (ErrorKind.PERMANENT, "The number changed carriers (portability)."),
    "1210": (ErrorKind.PERMANENT, "The lead's carrier filtered it as spam."),
    "1260": (ErrorKind.PERMANENT, "It could not be delivered to this number."),
    "1280": (ErrorKind.PERMANENT, "The lead's carrier blocked it."),
    "1282": (ErrorKind.PERMANENT, "The lead's carrier refused its content."),
    "1290": (ErrorKind.PERMANENT, "The lead's prepaid plan has no credit."),
    "1330": (ErrorKind.PERMANENT, "The lead's carrier reported an unknown error."),
    "1360": (ErrorKind.PERMANENT, "It expired before it could be delivered."),
    "1380": (ErrorKind.PERMANENT, "Vonage could not fetch the image."),
    "1381": (ErrorKind.PERMANENT, "The image is too large for MMS (2 MB)."),
    "1382": (ErrorKind.PERMANENT, "This kind of file cannot be sent by MMS."),
    **_all(
        ErrorKind.PERMANENT,
        f"Our sender number was refused: {ADMIN} (number, 10DLC registration).",
        "1120", "1420", "1460", "1476", "1480", "1481", "1482", "1483", "1484",
    ),
    **_all(
        ErrorKind.PERMANENT,
        f"Vonage refused to send it for this account: {ADMIN}.",
        "1060", "1070", "1080", "1140", "1160",
        "1470", "1472", "1473", "1474", "1475",
    ),
}  # fmt: skip

# API answers whose code is not listed above, by HTTP status.
HTTP_STATUS_ERRORS: dict[int, tuple[ErrorKind, str]] = {
    401: (
        ErrorKind.PERMANENT,
        "Vonage refused our credentials: an admin must check "
        "VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY.",
    ),
    402: (ErrorKind.PERMANENT, f"The Vonage balance is too low: {ADMIN}."),
    403: (ErrorKind.PERMANENT, f"Vonage forbade the request: {ADMIN}."),
    429: (ErrorKind.RETRYABLE, "Vonage is busy (too many requests)."),
}


def error_code(error: dict) -> str:
    """A Vonage error object's code, '' when it names none."""
    title = str(error.get("title") or "").strip()
    if title.isascii() and title.isdigit():
        return title
    fragment = str(error.get("type") or "").rpartition("#")[2].strip()
    return fragment if fragment.isascii() and fragment.isdigit() else ""


def error_for(code: str, message: Any = "", status: str = "") -> CarrierError:
    """A Vonage error code (and Vonage's words) as a CarrierError."""
    if code in ERRORS:
        kind, reason = ERRORS[code]
        return CarrierError(kind, code, reason)
    message = str(message or "").strip().rstrip(".")
    if not message:
        message = (
            "Vonage could not reach the lead's carrier"
            if status == "undeliverable"
            else "Vonage could not send it"
        )
    reason = f"Vonage: {message}." + (f" (error {code})" if code else "")
    return CarrierError(ErrorKind.PERMANENT, code, reason)


def error_from_exception(exc: Exception) -> CarrierError:
    """Any failure of a send (an API answer, the SDK, the network)."""
    if isinstance(exc, HttpRequestError):
        return _answer_error(exc.response)
    if isinstance(exc, ValidationError):
        # The SDK checked the message before sending anything.
        fields = {str(part) for error in exc.errors() for part in error["loc"]}
        if "to" in fields:
            return CarrierError(
                ErrorKind.INVALID_NUMBER, "", "This is not a valid phone number."
            )
        return error_for("", f"the SDK refused the message ({exc.title})")
    if isinstance(exc, requests.RequestException):
        return network_error(exc)
    return CarrierError(ErrorKind.UNCERTAIN, "", f"Unexpected error: {exc}")


def _answer_error(response: requests.Response) -> CarrierError:
    status = response.status_code
    try:
        details = response.json()
    except ValueError:
        details = {}
    details = details if isinstance(details, dict) else {}
    code = error_code(details)
    if code in ERRORS:
        return error_for(code)
    if status in HTTP_STATUS_ERRORS:
        kind, reason = HTTP_STATUS_ERRORS[status]
        return CarrierError(kind, code, reason)
    if status >= 500:
        return CarrierError(
            ErrorKind.RETRYABLE, code, f"Vonage answered HTTP {status}."
        )
    message = details.get("detail") or details.get("title") or f"HTTP {status}"
    return error_for(code, message)


def network_error(exc: requests.RequestException) -> CarrierError:
    """A failure to talk to Vonage (``carriers.http``)."""
    return http.network_error("Vonage", exc)
