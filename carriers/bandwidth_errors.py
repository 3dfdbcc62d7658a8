"""Bandwidth's error codes and the HTTP statuses of its API, as the error kinds
the domain acts on, with what the agent is told (``carriers.bandwidth``)."""

from __future__ import annotations

from carriers.base import ErrorKind

ADMIN = "an admin must check it in Bandwidth"
INVALID, PERMANENT = ErrorKind.INVALID_NUMBER, ErrorKind.PERMANENT
CREDENTIALS = (
    "Bandwidth refused our API credentials: an admin must check "
    "BANDWIDTH_USERNAME (client ID) and BANDWIDTH_PASSWORD (client secret)."
)

# Bandwidth's errorCodes of message-failed callbacks
# (https://dev.bandwidth.com/docs/messaging/errors): how the domain treats
# each and what the agent is told. Others fail with Bandwidth's description.
ERRORS: dict[str, tuple[ErrorKind, str]] = {
    "4775": (ErrorKind.OPTED_OUT, "The recipient has opted out (replied STOP)."),
    "4720": (INVALID, "This number cannot receive texts (invalid, or a landline)."),
    "4721": (INVALID, "This number is no longer in service."),
    "4303": (INVALID, "This is not a valid phone number."),
    "4350": (INVALID, "This is not a valid phone number."),
    "4404": (INVALID, "This number cannot receive texts."),
    "4406": (INVALID, "This number is not in service."),
    "4434": (INVALID, "This toll-free number cannot receive texts."),
    "4700": (INVALID, "The number's carrier or phone does not take texts."),
    "4701": (PERMANENT, "The phone cannot be reached by text."),
    "4702": (PERMANENT, "The phone is switched off or out of coverage."),
    "4730": (PERMANENT, "No route to the phone (it may be roaming)."),
    "4482": (PERMANENT, "The number is blocked from receiving texts."),
    "4772": (PERMANENT, "The lead's carrier blocked the text."),
    "4470": (PERMANENT, "Bandwidth filtered it as spam."),
    "4770": (PERMANENT, "The lead's carrier filtered it as spam."),
    "4785": (PERMANENT, "Over the carrier's volume limit: send it later."),
    "4411": (PERMANENT, "The images are too large to send."),
    "4412": (PERMANENT, "This kind of file cannot be sent."),
    "4432": (PERMANENT, f"Texting this country is not enabled: {ADMIN}."),
    "4403": (PERMANENT, f"Our number cannot send texts: {ADMIN}."),
    "4405": (PERMANENT, f"Our number cannot send texts: {ADMIN}."),
    "4407": (PERMANENT, f"Our number cannot send texts: {ADMIN}."),
    "4481": (PERMANENT, f"Bandwidth blocks our number (spam reports): {ADMIN}."),
    "4452": (PERMANENT, f"BANDWIDTH_APPLICATION_ID is wrong: {ADMIN}."),
    "4773": (PERMANENT, f"Our number's 10DLC campaign is not active: {ADMIN}."),
    "4795": (PERMANENT, f"Our toll-free number is not verified: {ADMIN}."),
}


# Answers to a send (createMessage), beyond 400, 429 and 5xx.
HTTP_STATUS_ERRORS: dict[int, tuple[ErrorKind, str]] = {
    401: (PERMANENT, CREDENTIALS),
    403: (PERMANENT, f"Our API credential lacks the Messaging role: {ADMIN}."),
    404: (PERMANENT, f"BANDWIDTH_ACCOUNT_ID is wrong: {ADMIN}."),
}
