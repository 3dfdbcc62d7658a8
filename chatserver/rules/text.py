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
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

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


def clean_email(value: Any) -> str:
    """An email address, trimmed ('' when none), or ActionError."""
    email = clean_text(value, "email", 254)
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise ActionError(
            f"\u201c{email}\u201d is not an email address: it looks like "
            "name@example.com.",
            "invalid",
        ) from None
    return email


def clean_number(number: Any, region: str = "US") -> str:
    """A phone number in E.164 form, read in ``region`` when written without
    a country code, or ActionError saying what is wrong with it."""
    if not isinstance(number, str) or not number.strip():
        raise ActionError("Enter a phone number.", "invalid")
    problem = unstorable(number)
    if problem:
        raise ActionError(problem, "invalid")
    try:
        return normalize_number(number, region)
    except InvalidNumber:
        raise ActionError(number_problem(number, region), "invalid") from None


# Kinds of number a text cannot reach (where the numbering plan tells them
# apart: in North America a number may be either, and passes).
NOT_TEXTABLE = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "a landline",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    phonenumbers.PhoneNumberType.SHARED_COST: "a shared-cost number",
    phonenumbers.PhoneNumberType.PAGER: "a pager",
    phonenumbers.PhoneNumberType.VOICEMAIL: "a voicemail number",
}


def clean_mobile_number(number: Any, region: str = "US") -> str:
    """A number a lead texts from, as ``clean_number`` reads it; also refused
    when its numbering plan says a text cannot reach it (a landline)."""
    e164 = clean_number(number, region)
    kind = NOT_TEXTABLE.get(phonenumbers.number_type(phonenumbers.parse(e164)))
    if kind:
        raise ActionError(
            f"{pretty_number(e164)} is {kind}: texts cannot reach it. "
            "Give a mobile number.",
            "invalid",
        )
    return e164


def example_number(region: str) -> str:
    """A mobile number of the region as people there write it, for hints."""
    example = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    )
    if example is None:
        return "+1 201 555 0123"
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)


def number_problem(number: str, region: str) -> str:
    """Why ``number`` is no phone number of ``region`` (or of the country its
    + names), in words an agent can act on."""
    shown = f"\u201c{number.strip()[:40]}\u201d"
    hint = (
        f"type it like {example_number(region)}, or start with + and its country code"
    )
    Reason = phonenumbers.ValidationResult
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            return f"{shown} has no country code we know: {hint}."
        if exc.error_type in (
            phonenumbers.NumberParseException.TOO_SHORT_NSN,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD,
        ):
            return f"{shown} is too short for a phone number: {hint}."
        return f"{shown} is not a phone number: {hint}."
    if len(number) > 40:
        return f"{shown}... is too long for a phone number."
    if parsed.extension:
        return (
            f"{shown} has an extension (ext. {parsed.extension}): a text cannot "
            "reach an extension; give a mobile number."
        )
    country = phonenumbers.region_code_for_number(parsed) or region
    why = phonenumbers.is_possible_number_with_reason(parsed)
    if why == Reason.IS_POSSIBLE_LOCAL_ONLY:
        return f"{shown} has no area code: {hint}."
    if why in (Reason.TOO_SHORT, Reason.INVALID_LENGTH):
        return f"{shown} is too short: {hint}."
    if why == Reason.TOO_LONG:
        return f"{shown} has too many digits for a number in {country}."
    if why == Reason.INVALID_COUNTRY_CODE:
        return f"{shown} has no country code we know: {hint}."
    return f"{shown} is not a valid number in {country}: check its digits."


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
