"""The event log consoles resume from, and the webhooks waiting for the worker."""

from django.db import models
from django.db.models import Q

from chatserver.models.organisations import Organisation


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
