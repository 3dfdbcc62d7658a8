"""Organisations (tenants), their agents and agent groups: who may do what."""

import datetime

from django.conf import settings
from django.db import models

from chatserver.models.fields import validate_region


class SmsPermission(models.TextChoices):
    """Allow SMS on a user or a group: deny wins, unset defers to the others."""

    UNSET = "", "Unset"
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"


# What HELP answers, unless an organisation wrote its own (CTIA: who is
# texting, how to reach them, the rates, how to stop).
HELP_TEXT = (
    "{org}: for help, contact us at {contact}. Msg & data rates may apply. "
    "Reply STOP to opt out."
)


class Organisation(models.Model):
    """A company that texts its leads: a tenant."""

    class MessageLimit(models.TextChoices):
        STANDARD = "standard", "Standard (160 characters, GSM-7)"
        ADVANCED = "advanced", "Advanced (640 characters, any character)"

    name = models.CharField(max_length=200, unique=True)
    message_limit = models.CharField(
        max_length=16, choices=MessageLimit, default=MessageLimit.STANDARD
    )
    region = models.CharField(
        max_length=2,
        default="US",
        validators=[validate_region],
        help_text="Where numbers typed without a country code are read "
        "(ISO 3166 code: US, CA, GB...).",
    )
    texted_first_authorizes = models.BooleanField(
        default=True,
        help_text="A lead who texts in first is authorized for replies.",
    )
    authorization_request_text = models.TextField(
        default="{org} would like to text you about your inquiry. "
        "Reply YES to agree or STOP to opt out."
    )
    intro_text = models.CharField(
        max_length=160,
        blank=True,
        default="{org}: Reply STOP to opt out.",
        help_text="Sent with the first message to a number.",
    )
    optout_footer = models.CharField(
        max_length=60,
        blank=True,
        default="",
        help_text="Appended to every message when set, e.g. 'Reply STOP to opt out'.",
    )
    optout_confirmation_text = models.TextField(
        default="{org}: You are unsubscribed and will get no more messages. "
        "Reply START to resubscribe.",
        help_text="The one text confirming an opt-out (FCC 24-24): it may only "
        "confirm it, no marketing; it goes within 5 minutes or not at all.",
    )
    optin_confirmation_text = models.TextField(
        default="{org}: You are subscribed again. Reply STOP to opt out.",
        help_text="The answer to START or YES from a number that had opted out.",
    )
    welcome_text = models.TextField(
        default="{org}: Thanks, you will get texts from us about your inquiry. "
        "Reply HELP for help, STOP to opt out.",
        help_text="The answer to a first YES (or START): the number never opted "
        "out, so it is not 'subscribed again'.",
    )
    help_text = models.TextField(
        default=HELP_TEXT,
        help_text="The answer to HELP: {org} is the name, {contact} how to reach "
        "you (below).",
    )
    help_contact = models.CharField(
        max_length=120,
        blank=True,
        default="",
        help_text="How a lead reaches you, for the HELP answer: a phone number, "
        "an email or a web address. Empty: the number they texted.",
    )
    quiet_hours_start = models.TimeField(
        default=datetime.time(21, 0),
        help_text="No sends from this time (recipient's local time)...",
    )
    quiet_hours_end = models.TimeField(
        default=datetime.time(8, 0), help_text="...until this time."
    )
    mms_enabled = models.BooleanField(default=False)
    # Which of its texts the organisation counts as solicitations, which the
    # send governor holds to the states' hours and caps (docs/compliance.md).
    # All by default: the cautious choice until the organisation decides.
    solicit_follow_ups = models.BooleanField(
        "follow-ups are solicitations",
        default=True,
        help_text="An agent's text to a lead who has not written in the last 24 hours.",
    )
    solicit_scheduled = models.BooleanField(
        "scheduled texts are solicitations",
        default=True,
        help_text="A text an agent scheduled, when its time comes.",
    )
    solicit_automatic = models.BooleanField(
        "automatic texts are solicitations",
        default=True,
        help_text="A text no agent wrote: a follow-up workflow's step.",
    )
    solicit_authorization_requests = models.BooleanField(
        "authorization requests are solicitations",
        default=True,
        help_text="Asking a lead's permission to text them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Agent(models.Model):
    """A user's seat in an organisation: what they may see and do."""

    class Access(models.TextChoices):
        ALL = "all", "All leads"
        UNASSIGNED = "unassigned", "Unassigned leads"
        MINE = "mine", "My leads"
        ASSIGNED = "assigned", "Assigned leads"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="agents"
    )
    access = models.CharField(max_length=16, choices=Access, default=Access.MINE)
    sms = models.CharField(
        "allow SMS", max_length=8, choices=SmsPermission, blank=True, default=""
    )
    display_images = models.BooleanField(default=True)
    is_external = models.BooleanField(
        default=False,
        help_text="An outside partner: sees only leads shared with them, read-only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self):
        return self.user.get_full_name() or self.user.username

    @property
    def name(self) -> str:
        return str(self)


class AgentGroup(models.Model):
    """A team of agents, with an SMS permission of its own."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="agent_groups"
    )
    name = models.CharField(max_length=100)
    sms = models.CharField(
        "allow SMS", max_length=8, choices=SmsPermission, blank=True, default=""
    )
    members = models.ManyToManyField(Agent, related_name="agent_groups", blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="unique_group_name_per_org"
            )
        ]

    def __str__(self):
        return self.name
