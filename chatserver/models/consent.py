"""Consent: whether an organisation may text a number, and its audit log."""

from django.db import models

from chatserver.models.fields import PhoneNumberField
from chatserver.models.messaging import Message
from chatserver.models.organisations import Agent, Organisation


class Consent(models.Model):
    """Whether an organisation may text a phone number."""

    class State(models.TextChoices):
        NOT_AUTHORIZED = "not_authorized", "Not authorized"
        PENDING = "pending", "Pending"
        AUTHORIZED = "authorized", "Authorized"
        REVOKED = "revoked", "Revoked"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    number = PhoneNumberField()
    state = models.CharField(
        max_length=16, choices=State, default=State.NOT_AUTHORIZED
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="unique_consent_per_number"
            )
        ]

    def __str__(self):
        return f"{self.number}: {self.get_state_display()}"


class ConsentChange(models.Model):
    """The audit log of consent: every change, who or what made it, and why."""

    class Source(models.TextChoices):
        """How the change reached us ('' on rows older than the field)."""

        KEYWORD = "keyword", "The lead texted a keyword"
        CARRIER = "carrier", "The carrier reported it"
        CONFIRMED = "confirmed", "An agent confirmed the lead's text"
        PHONE = "phone", "The lead asked by phone (an agent recorded it)"
        REQUEST = "request", "An authorization request"
        TEXTED_FIRST = "texted_first", "The lead texted first"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    number = PhoneNumberField()
    old_state = models.CharField(max_length=16, choices=Consent.State)
    new_state = models.CharField(max_length=16, choices=Consent.State)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=Source, blank=True, default="")
    note = models.TextField(blank=True, default="")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organisation", "number", "id"])]
