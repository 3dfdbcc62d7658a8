"""Leads, their contacts and numbers, notes, and engagements closed."""

from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import Q

from chatserver.models.fields import PhoneNumberField
from chatserver.models.indexes import SEARCH_CONFIG, FullTextIndex
from chatserver.models.organisations import Agent, Organisation


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
        HOMEOWNER = "homeowner", "Homeowner"
        SPOUSE = "spouse", "Spouse"
        ADJUSTER = "adjuster", "Insurance adjuster"
        PARTNER = "partner", "External partner"
        OTHER = "other", "Other"

    # Roles of people who work on many leads (an adjuster handles many
    # claims): their texts go to the lead where they have that role.
    ACROSS_LEADS = (Role.PARTNER, Role.ADJUSTER)
    # Roles stored before the roofing words (migration 0005), still accepted.
    OLD_ROLES = {"borrower": Role.HOMEOWNER, "co_borrower": Role.SPOUSE}

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=16, choices=Role, default=Role.HOMEOWNER)
    email = models.EmailField(blank=True)
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
