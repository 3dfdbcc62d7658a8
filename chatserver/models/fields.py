"""Fields of our own: phone numbers, always stored in E.164 form."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models

from carriers.base import InvalidNumber, normalize_number


def validate_e164(value: str) -> None:
    """Refuse anything that is not already a valid E.164 number."""
    try:
        normalized = normalize_number(value)
    except InvalidNumber as exc:
        raise ValidationError(str(exc)) from None
    if normalized != value:
        raise ValidationError(f"{value!r} is not in E.164 form ({normalized})")


def validate_region(value: str) -> None:
    """Refuse anything but a region phone numbers are read in ("US", "GB")."""
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            f"{value!r} is not a region code: use two capital letters, like US or GB."
        )


class PhoneNumberField(models.CharField):
    """A phone number stored in E.164 form.

    Values are normalised when saved and when used in lookups, so
    ``filter(number="(415) 555-0123")`` finds ``+14155550123``.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)
        self.validators.append(validate_e164)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 16:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value:
            try:
                return normalize_number(value)
            except InvalidNumber:
                return value  # validation reports it; a lookup simply finds nothing
        return value
