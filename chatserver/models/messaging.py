"""Our numbers, conversations and their messages: texts, images, read state,
and the templates and categories agents send them with."""

from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from carriers import CARRIER_NAMES
from chatserver.models.fields import PhoneNumberField
from chatserver.models.indexes import SEARCH_CONFIG, FullTextIndex
from chatserver.models.leads import ContactNumber, Lead
from chatserver.models.organisations import Agent, Organisation
from chatserver.rules import templating


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

    class Automation(models.TextChoices):
        """Why an automatic reply was sent."""

        OPTOUT_CONFIRMATION = "optout_confirmation", "Opt-out confirmation"
        CONSENT = "consent", "Consent keyword"
        KEYWORD = "keyword", "Keyword rule"
        AFTER_HOURS = "after_hours", "After hours"

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
        # A scheduled text that will not go: an agent cancelled it, or the
        # lead replied first (``error_reason`` says which). Terminal.
        CANCELLED = "cancelled", "Cancelled"

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
    # A new copy of a text that failed (or was left for an agent to check):
    # the failed one stays as it was, and shows it was resent.
    resend_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resends",
    )
    # What sent an automatic reply (kind ``auto_reply``); '' for any other.
    automation = models.CharField(
        max_length=20, choices=Automation, blank=True, default=""
    )
    # Flagged for an agent to confirm ("please stop texting me").
    possible_optout = models.BooleanField(default=False)
    # Passed the send governor as a solicitation: the state caps count it
    # (chatserver.queries.governed).
    governed = models.BooleanField(default=False)
    # Outbox bookkeeping: when it may next be tried, how often it was.
    send_after = models.DateTimeField(null=True, blank=True)
    # A scheduled text is cancelled when the lead texts first (the agent's
    # choice when scheduling it; on unless they turned it off).
    cancel_on_reply = models.BooleanField(default=True)
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
        try:
            templating.check(self.body)
        except templating.TemplateError as exc:
            raise ValidationError({"body": str(exc)}) from None
        if self.category_id and self.category.organisation_id != self.organisation_id:
            raise ValidationError({"category": "Pick a category of this organisation."})
