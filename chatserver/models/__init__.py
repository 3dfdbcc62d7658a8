"""The domain model. Every row belongs to one organisation.

Only ``chatserver.actions`` writes these rows (the admin and the management
commands go through it too, or edit plain settings fields).
"""

import datetime

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from carriers import CARRIER_NAMES
from carriers.base import InvalidNumber, normalize_number
from chatserver.models.indexes import SEARCH_CONFIG, FullTextIndex


def validate_e164(value: str) -> None:
    """Refuse anything that is not already a valid E.164 number."""
    try:
        normalized = normalize_number(value)
    except InvalidNumber as exc:
        raise ValidationError(str(exc)) from None
    if normalized != value:
        raise ValidationError(f"{value!r} is not in E.164 form ({normalized})")


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


class SmsPermission(models.TextChoices):
    """Allow SMS on a user or a group: deny wins, unset defers to the others."""

    UNSET = "", "Unset"
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"


class Organisation(models.Model):
    """A company that texts its leads: a tenant."""

    class MessageLimit(models.TextChoices):
        STANDARD = "standard", "Standard (160 characters, GSM-7)"
        ADVANCED = "advanced", "Advanced (640 characters, any character)"

    name = models.CharField(max_length=200, unique=True)
    message_limit = models.CharField(
        max_length=16, choices=MessageLimit, default=MessageLimit.STANDARD
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
        "Reply START to resubscribe."
    )
    optin_confirmation_text = models.TextField(
        default="{org}: You are subscribed again. Reply STOP to opt out."
    )
    help_text = models.TextField(
        default="{org}: Reply STOP to opt out. Msg & data rates may apply."
    )
    quiet_hours_start = models.TimeField(
        default=datetime.time(21, 0),
        help_text="No sends from this time (recipient's local time)...",
    )
    quiet_hours_end = models.TimeField(
        default=datetime.time(8, 0), help_text="...until this time."
    )
    mms_enabled = models.BooleanField(default=False)
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


class Lead(models.Model):
    """A prospective customer: one or more contacts and their conversations."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="leads"
    )
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status, default=Status.OPEN)
    assignee = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_leads",
    )
    shared_with = models.ManyToManyField(
        Agent,
        blank=True,
        related_name="shared_leads",
        help_text="Read-only access for agents who could not see it otherwise.",
    )
    source = models.CharField(max_length=32, default="manual")
    created_by = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_leads",
    )
    # The id the creating console gave it: creating twice with one is once.
    client_id = models.UUIDField(null=True, blank=True)
    last_activity_at = models.DateTimeField(auto_now_add=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_activity_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "client_id"],
                condition=Q(client_id__isnull=False),
                name="unique_lead_client_id_per_creator",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "assignee"]),
            models.Index(fields=["organisation", "-last_activity_at", "-id"]),
            FullTextIndex(
                SearchVector("name", config=SEARCH_CONFIG), name="lead_name_search"
            ),
        ]

    def __str__(self):
        return self.name


class LeadClosure(models.Model):
    """A lead closed by an agent: an engagement closed, counted per month."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="closures")
    # Set when one conversation of the lead was closed rather than the lead.
    conversation = models.ForeignKey(
        "Conversation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="closures",
    )
    agent = models.ForeignKey(
        Agent, null=True, on_delete=models.SET_NULL, related_name="closures"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "created_at", "agent"])]


class Contact(models.Model):
    """A person on one or more leads (a partner may be on many)."""

    class Role(models.TextChoices):
        BORROWER = "borrower", "Borrower"
        CO_BORROWER = "co_borrower", "Co-borrower"
        PARTNER = "partner", "External partner"
        OTHER = "other", "Other"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=16, choices=Role, default=Role.BORROWER)
    leads = models.ManyToManyField(Lead, related_name="contacts", blank=True)

    class Meta:
        indexes = [
            FullTextIndex(
                SearchVector("first_name", "last_name", config=SEARCH_CONFIG),
                name="contact_name_search",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or "(no name)"


class ContactNumber(models.Model):
    """A contact's phone number."""

    class Kind(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="numbers"
    )
    number = PhoneNumberField()
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.PRIMARY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "number"], name="unique_number_per_contact"
            )
        ]
        indexes = [models.Index(fields=["organisation", "number"])]

    def __str__(self):
        return self.number


class SenderNumber(models.Model):
    """One of our numbers that texts leads, on one carrier."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="sender_numbers"
    )
    number = PhoneNumberField(unique=True)
    carrier = models.CharField(
        max_length=32, choices=[(name, name) for name in CARRIER_NAMES]
    )
    agent = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sender_numbers",
        help_text="Owned by one agent: leads texted from it reply to it.",
    )
    carrier_confirms_optout = models.BooleanField(
        default=False,
        help_text="The carrier already answers STOP, START and HELP itself "
        "(Twilio's opt-out handling), so we send no keyword replies.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.number} ({self.carrier})"


class Conversation(models.Model):
    """The thread between one contact number and one sender number, on a lead."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="conversations"
    )
    contact_number = models.ForeignKey(
        ContactNumber, on_delete=models.CASCADE, related_name="conversations"
    )
    sender = models.ForeignKey(
        SenderNumber, on_delete=models.PROTECT, related_name="conversations"
    )
    status = models.CharField(max_length=8, choices=Status, default=Status.OPEN)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "contact_number", "sender"],
                name="unique_conversation",
            )
        ]

    def __str__(self):
        return f"{self.lead} / {self.contact_number}"


class MessageCategory(models.Model):
    """A label agents give outbound messages (follow-up, quote, ...)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "message categories"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="unique_category_per_org"
            )
        ]

    def __str__(self):
        return self.name


class Message(models.Model):
    """One SMS or MMS, in or out."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        AUTHORIZATION_REQUEST = "authorization_request", "Authorization request"
        AUTO_REPLY = "auto_reply", "Automatic reply"

    class Status(models.TextChoices):
        """Inbound messages are 'received'; outbound ones move forward only."""

        RECEIVED = "received", "Received"
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        CHECK = "check", "Check with the carrier"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction)
    kind = models.CharField(max_length=24, choices=Kind, default=Kind.TEXT)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status)
    author = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    client_id = models.UUIDField(null=True, blank=True)
    category = models.ForeignKey(
        MessageCategory, null=True, blank=True, on_delete=models.SET_NULL
    )
    carrier = models.CharField(max_length=32)
    carrier_message_id = models.CharField(max_length=64, blank=True, default="")
    encoding = models.CharField(max_length=8, default="GSM-7")
    segments = models.PositiveSmallIntegerField(default=1)
    error_code = models.CharField(max_length=16, blank=True, default="")
    error_reason = models.CharField(max_length=300, blank=True, default="")
    # Flagged for an agent to confirm ("please stop texting me").
    possible_optout = models.BooleanField(default=False)
    # Outbox bookkeeping: when it may next be tried, how often it was.
    send_after = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "carrier_message_id"],
                condition=~Q(carrier_message_id=""),
                name="unique_carrier_message_id",
            ),
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="unique_client_id_per_author",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "send_after"], name="outbox_idx"),
            models.Index(fields=["conversation", "direction", "id"]),
            FullTextIndex(
                SearchVector("body", config=SEARCH_CONFIG), name="message_body_search"
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.body[:40]!r}"


class Attachment(models.Model):
    """An image (or its refusal) on an MMS."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being fetched"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Not accepted"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments"
    )
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # Fetching bookkeeping (inbound media, off the webhook's path): tries so
    # far, and when it may next be tried (also the lease of the fetcher that
    # claimed it: see chatserver.actions.attachments.claim).
    attempts = models.PositiveSmallIntegerField(default=0)
    fetch_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "fetch_after"], name="attachment_fetch_idx")
        ]

    def __str__(self):
        return f"{self.content_type or 'attachment'} ({self.get_status_display()})"


class ReadState(models.Model):
    """How far an agent has read a conversation: the source of unread counts."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="reads")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="reads"
    )
    last_read_message_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "conversation"], name="unique_read_state"
            )
        ]


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

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    number = PhoneNumberField()
    old_state = models.CharField(max_length=16, choices=Consent.State)
    new_state = models.CharField(max_length=16, choices=Consent.State)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=200)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organisation", "number", "id"])]


class Note(models.Model):
    """An internal note on a lead: seen by agents, never sent."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL)
    body = models.TextField()
    # The id the writing console gave it: adding twice with one is once.
    client_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="unique_note_client_id_per_author",
            )
        ]


class Template(models.Model):
    """A message text prepared by admins, with merge fields like {lead.first_name}."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    body = models.TextField()
    category = models.ForeignKey(
        MessageCategory, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from chatserver.rules import templating

        try:
            templating.check(self.body)
        except templating.TemplateError as exc:
            raise ValidationError({"body": str(exc)}) from None
        if self.category_id and self.category.organisation_id != self.organisation_id:
            raise ValidationError({"category": "Pick a category of this organisation."})


class Event(models.Model):
    """Every event published to consoles, kept so a socket can resume.

    ``cursor`` is the protocol's cursor: 1, 2, 3, ... per organisation, in the
    order the events' transactions committed (``chatserver.publish``
    numbers them just after the commit; null until then). So a console that saw
    cursor c has seen, or will never be sent, every event before c. ``groups``
    are the channel-layer groups it was published to: a resuming socket gets
    the events of the groups it is in, as it would have live. ``routing`` holds
    the fields sockets read to keep their own state (unread counts, ...).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    cursor = models.BigIntegerField(null=True, blank=True)
    lead_id = models.BigIntegerField(null=True, blank=True)
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    groups = models.JSONField(default=list)
    routing = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "cursor"], name="unique_event_cursor"
            )
        ]
        indexes = [
            models.Index(
                fields=["organisation", "id"],
                condition=Q(cursor__isnull=True),
                name="event_unnumbered_idx",
            )
        ]


class WebhookReceipt(models.Model):
    """A carrier's webhook, verified and stored, waiting to be processed.

    With ``WEBHOOKS_QUEUED`` on, the web process answers a carrier as soon as
    its webhook is stored here, and the worker turns it into messages and
    statuses (``chatserver.actions.webhooks``), off the process that serves the
    consoles' sockets. A row is deleted once processed; one that can never be
    processed is kept with its ``error``, for an operator to look at.
    """

    carrier = models.CharField(max_length=32)
    kind = models.CharField(max_length=32)
    # What the adapter parsed from the verified request, as carrier-neutral
    # events (carriers.base.event_to_json): the worker parses nothing again.
    events = models.JSONField(default=list, blank=True)
    # A receipt stored by a process older than ``events`` (during a deploy):
    # the URL the carrier called and every value of every form field, which
    # the adapter parses when the receipt is applied.
    url = models.TextField(blank=True)
    form = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.carrier} {self.kind} webhook {self.pk}"
