"""Telnyx's error codes and the HTTP statuses of its API, as the error kinds
the domain acts on, with what the agent is told (``carriers.telnyx``)."""

from __future__ import annotations

from carriers.base import ErrorKind

# Telnyx error codes (developers.telnyx.com/docs/messaging/messages/
# error-codes and /api/errors/<code>): how the domain treats each and what
# the agent is told. Codes not listed are permanent, with Telnyx's words.
ERRORS: dict[str, tuple[ErrorKind, str]] = {
    # Refused by the API when sending.
    "40300": (ErrorKind.OPTED_OUT, "The recipient has opted out (replied STOP)."),
    "40310": (ErrorKind.INVALID_NUMBER, "This is not a valid phone number."),
    "10002": (ErrorKind.INVALID_NUMBER, "This is not a valid phone number."),
    "10016": (ErrorKind.INVALID_NUMBER, "This is not a valid phone number."),
    "10009": (ErrorKind.PERMANENT, "Telnyx refused our API key (an admin's job)."),
    "10010": (ErrorKind.PERMANENT, "Telnyx forbids our API key (an admin's job)."),
    "10011": (ErrorKind.RETRYABLE, "Telnyx is busy (too many requests)."),
    "10007": (ErrorKind.RETRYABLE, "Telnyx had an unexpected error."),
    # Reported by message.finalized after Telnyx accepted the message.
    "40001": (ErrorKind.INVALID_NUMBER, "This number cannot receive texts."),
    "40012": (ErrorKind.INVALID_NUMBER, "The carrier says it cannot get texts."),
    "40002": (ErrorKind.PERMANENT, "The lead's carrier filtered it as spam."),
    "40003": (ErrorKind.PERMANENT, "Our number is blocked as spam (admin's job)."),
    "40004": (ErrorKind.PERMANENT, "The lead's carrier rejected it."),
    "40005": (ErrorKind.PERMANENT, "It expired before it reached the phone."),
    "40006": (ErrorKind.PERMANENT, "The lead's carrier was unavailable."),
    "40008": (ErrorKind.PERMANENT, "The lead's carrier could not deliver it."),
    "40009": (ErrorKind.PERMANENT, "The lead's carrier refused the text."),
    "40011": (ErrorKind.PERMANENT, "The lead's carrier's rate limit was reached."),
    "40013": (ErrorKind.PERMANENT, "The carrier refused our number (admin's job)."),
    "40014": (ErrorKind.PERMANENT, "It expired in Telnyx's queue."),
    "40015": (ErrorKind.PERMANENT, "Telnyx's spam filter stopped it."),
}


HTTP_STATUS_ERRORS: dict[int, tuple[ErrorKind, str]] = {
    401: ERRORS["10009"],
    403: ERRORS["10010"],
    429: ERRORS["10011"],
}
