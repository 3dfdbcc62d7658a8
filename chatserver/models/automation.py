"""Automatic replies: an organisation's keyword rules, and each of our
numbers' business hours with the reply a lead gets outside them."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models

from chatserver.models.messaging import SenderNumber, Template
from chatserver.models.organisations import Organisation
from chatserver.rules import auto_replies, templating
from chatserver.rules.errors import ActionError


class KeywordRule(models.Model):
    """A lead who texts ``keyword`` (the whole message) gets ``template``."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    keyword = models.CharField(
        max_length=auto_replies.KEYWORD_LENGTH,
        help_text="One word of letters or digits, e.g. PRICE; matched in any "
        "case as the whole message. STOP, START, HELP and their variants are "
        "reserved.",
    )
    # A saved reply answering a keyword is not deleted from under its rule.
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, related_name="keyword_rules"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["keyword"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "keyword"], name="unique_keyword_per_org"
            )
        ]

    def __str__(self):
        return self.keyword

    def clean(self):
        try:
            self.keyword = auto_replies.clean_keyword(self.keyword)
        except ActionError as exc:
            raise ValidationError({"keyword": exc.reason}) from None
        if self.template_id and self.template.organisation_id != self.organisation_id:
            raise ValidationError({"template": "Pick a template of this organisation."})


def weekdays() -> str:
    return "12345"


class BusinessHours(models.Model):
    """When one of our numbers is answered, and what a lead who texts it
    outside those hours is told (at most once per conversation per
    ``reply_every_hours``)."""

    sender = models.OneToOneField(
        SenderNumber, on_delete=models.CASCADE, related_name="business_hours"
    )
    time_zone = models.CharField(max_length=64, default="America/New_York")
    days = models.CharField(
        max_length=7,
        default=weekdays,
        help_text="ISO weekdays open, as digits: 1 Monday ... 7 Sunday "
        "(12345: Monday to Friday).",
    )
    opens = models.TimeField(default=datetime.time(9))
    closes = models.TimeField(
        default=datetime.time(17),
        help_text="Before the opening time: open past midnight.",
    )
    after_hours_text = models.TextField(
        blank=True,
        help_text="Sent to a lead who texts outside these hours; empty: no reply. "
        "Merge fields as in saved replies, e.g. {org.name}, {lead.first_name}.",
    )
    reply_every_hours = models.PositiveSmallIntegerField(
        default=12,
        help_text="A conversation gets the after-hours reply at most once in "
        "this many hours.",
    )

    class Meta:
        verbose_name_plural = "business hours"

    def __str__(self):
        return f"Business hours of {self.sender}"

    def clean(self):
        errors = {}
        try:
            auto_replies.zone_of(self.time_zone)
        except ValueError as exc:
            errors["time_zone"] = str(exc)
        days = "".join(str(d) for d in sorted(auto_replies.parse_days(self.days or "")))
        if not days or len(days) != len(self.days or ""):
            errors["days"] = "Digits 1 (Monday) to 7 (Sunday), each once, e.g. 12345."
        try:
            templating.check(self.after_hours_text or "")
        except templating.TemplateError as exc:
            errors["after_hours_text"] = str(exc)
        if not self.reply_every_hours:
            errors["reply_every_hours"] = "At least one hour."
        if errors:
            raise ValidationError(errors)
        self.days = days

    def is_open(self, when: datetime.datetime) -> bool:
        return auto_replies.is_open(
            when, self.time_zone, self.days, self.opens, self.closes
        )
