"""Follow-ups on leads (the Outstanding list), and the follow-up workflows
admins define and leads are enrolled in."""

from django.db import models
from django.db.models import Q

from chatserver.models.leads import Lead
from chatserver.models.messaging import Conversation, Message, SenderNumber, Template
from chatserver.models.organisations import Agent, Organisation


class Workflow(models.Model):
    """A few steps after a lead is enrolled: automatic texts from templates,
    and manual reminders (call, text) for the lead's assignee."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="workflows"
    )
    name = models.CharField(max_length=100)
    # New leads whose source is this ("sms": they texted one of our numbers
    # first) are enrolled when they are created; blank: by hand only.
    source = models.CharField(max_length=32, blank=True, default="")
    # With source "sms": only leads that first texted this number.
    sender = models.ForeignKey(
        SenderNumber, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class WorkflowStep(models.Model):
    """One step: after ``delay`` from the enrollment, an automatic text (a
    template) or a reminder on the assignee's Outstanding list."""

    class Kind(models.TextChoices):
        TEXT = "text", "Automatic text"
        CALL = "call", "Reminder to call"
        REMIND_TEXT = "remind_text", "Reminder to text"

    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField()
    delay_days = models.PositiveSmallIntegerField(default=0)
    delay_hours = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind)
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return (
            f"{self.get_kind_display()} after {self.delay_days} d {self.delay_hours} h"
        )


class Enrollment(models.Model):
    """A lead going through a workflow: its automatic texts are scheduled
    messages (``messages``), its manual steps follow-ups. Stopped by the
    lead's reply, an opt-out, closing the lead, or an agent."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    workflow = models.ForeignKey(
        Workflow, null=True, on_delete=models.SET_NULL, related_name="enrollments"
    )
    workflow_name = models.CharField(max_length=100)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="enrollments")
    conversation = models.ForeignKey(
        Conversation, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True, default="")
    messages = models.ManyToManyField(Message, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "lead"],
                condition=Q(stopped_at__isnull=True),
                name="one_running_enrollment_per_workflow_and_lead",
            )
        ]

    def __str__(self):
        return f"{self.lead} in {self.workflow_name}"


class FollowUp(models.Model):
    """A reminder to follow a lead up, due at a time: on its assignee's
    Outstanding list once due, until done (texting the lead, or marked)."""

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", "Follow up"
        CALL = "call", "Call"
        TEXT = "text", "Text"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="followups")
    kind = models.CharField(max_length=12, choices=Kind, default=Kind.FOLLOW_UP)
    note = models.CharField(max_length=500, blank=True, default="")
    due_at = models.DateTimeField()
    snoozed_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whose Outstanding list it is on; None: every agent who sees the lead
    # while nobody has it (a workflow's step on an unassigned lead).
    assignee = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrollment = models.ForeignKey(
        Enrollment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
    )
    # The id the setting console gave it: setting twice with one is once.
    client_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "client_id"],
                condition=Q(client_id__isnull=False),
                name="unique_followup_client_id_per_creator",
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_at"]),
            models.Index(fields=["lead", "done_at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.lead} at {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def due_time(self):
        """When it is (again) due: its snooze, else its due time."""
        return self.snoozed_until or self.due_at
