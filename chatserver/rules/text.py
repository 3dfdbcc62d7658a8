"""Reading what people type: one cleaner for every text that enters the
server, from the console's socket and JSON API, the CLI and the admin
(webhooks: ``carriers.base.WebhookRequest``, through the same ``unstorable``).

Each function returns the clean value or raises ActionError with a reason an
agent (or an operator at the command line) can act on.
"""

from __future__ import annotations

import uuid
from typing import Any

import phonenumbers

from carriers.base import InvalidNumber, normalize_number, unstorable, unstorable_in
from chatserver.rules.errors import ActionError


def check_text(value: Any) -> None:
    """ActionError if any text in a decoded JSON value (keys included) cannot
    be stored: a NUL character, or a lone surrogate (JSON may spell both as
    escapes). Every JSON the console sends goes through here."""
    problem = unstorable_in(value)
    if problem:
        raise ActionError(problem, "invalid")


def clean_text(value: Any, what: str, max_length: int, required: bool = False) -> str:
    """A short text field, trimmed, or ActionError."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionError(f"The {what} must be text.", "invalid")
    problem = unstorable(value)
    if problem:
        raise ActionError(f"The {what}: {problem}", "invalid")
    value = value.strip()
    if required and not value:
        raise ActionError(f"Enter the {what}.", "invalid")
    if len(value) > max_length:
        raise ActionError(
            f"The {what} is too long ({len(value)} of {max_length} characters).",
            "invalid",
        )
    return value


def clean_number(number: Any, region: str = "US") -> str:
    """A phone number in E.164 form, read in ``region`` when written without
    a country code, or ActionError saying what is wrong."""
    if not isinstance(number, str) or not number.strip():
        raise ActionError("Enter a phone number.", "invalid")
    problem = unstorable(number)
    if problem:
        raise ActionError(problem, "invalid")
    try:
        return normalize_number(number, region)
    except InvalidNumber as exc:
        raise ActionError(f"Invalid number: {exc}", "invalid") from None


def parse_client_id(client_id: Any) -> uuid.UUID | None:
    """A client-made id (of a message, a note, a lead) as a UUID (None stays
    None), or ActionError."""
    if client_id is None or isinstance(client_id, uuid.UUID):
        return client_id
    try:
        return uuid.UUID(str(client_id))
    except ValueError:
        raise ActionError("client_id must be a UUID.", "invalid") from None


def pretty_number(number: str) -> str:
    """A number as people write it, for a new lead's name."""
    parsed = phonenumbers.parse(number)
    return phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


# -- assignment and sharing -----------------------------------------------------
