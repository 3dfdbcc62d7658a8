"""An agent's rights and their organisation's plan: changed here (the CLI's
``set_agent`` and ``set_org``), and every change, whichever path made it
(these actions, the Django admin, a shell), reaches the agent's open
consoles as an event: ``agent.updated`` or ``organisation.updated``.

Each socket then re-reads the agent from the database, re-joins the groups
it belongs in and sends its console a fresh state; nothing an open console
may do rests on what its socket read when it connected (docs/protocol.md).
The model signals below catch the paths that write these rows directly; the
event is published once per agent (or organisation) per transaction.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver

from chatserver import events
from chatserver.models import Agent, AgentGroup, Organisation, SmsPermission
from chatserver.publish import emit
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_text

SMS_CHOICES = {"allow": SmsPermission.ALLOW, "deny": SmsPermission.DENY, "unset": ""}


@transaction.atomic
def set_agent(
    agent: Agent,
    *,
    access: str | None = None,
    sms: str | None = None,
    images: bool | None = None,
    active: bool | None = None,
    join_group: str | None = None,
    leave_group: str | None = None,
) -> Agent:
    """Change what an agent may see or do; ``None`` leaves a right as it is.
    ``sms`` is allow, deny or unset; ``join_group`` makes the agent a member
    of the organisation's group of that name (created when new)."""
    agent = Agent.objects.select_for_update().select_related("user").get(pk=agent.pk)
    if access is not None:
        if access not in Agent.Access.values:
            raise ActionError(
                f"Unknown access {access!r}: use one of {', '.join(Agent.Access.values)}."
            )
        agent.access = access
    if sms is not None:
        if sms not in SMS_CHOICES:
            raise ActionError("SMS takes allow, deny or unset.")
        agent.sms = SMS_CHOICES[sms]
    if images is not None:
        agent.display_images = images
    agent.save(update_fields=["access", "sms", "display_images"])
    if active is not None and agent.user.is_active != active:
        agent.user.is_active = active
        agent.user.save(update_fields=["is_active"])
    if join_group:
        name = clean_text(join_group, "group name", 100, required=True)
        group, _ = AgentGroup.objects.get_or_create(
            organisation_id=agent.organisation_id, name=name
        )
        group.members.add(agent)
    if leave_group:
        group = AgentGroup.objects.filter(
            organisation_id=agent.organisation_id, name=leave_group
        ).first()
        if group is None:
            raise ActionError(f"No group named {leave_group!r}.")
        group.members.remove(agent)
    return agent


@transaction.atomic
def set_organisation_limit(organisation: Organisation, limit: str) -> Organisation:
    """Switch an organisation's plan: Standard (160 characters, GSM-7) or
    Advanced (640, any character)."""
    if limit not in Organisation.MessageLimit.values:
        raise ActionError(
            f"Unknown limit {limit!r}: use "
            + " or ".join(Organisation.MessageLimit.values)
            + "."
        )
    organisation.message_limit = limit
    organisation.save(update_fields=["message_limit"])
    return organisation


HELP_CONTACT = Organisation._meta.get_field("help_contact").max_length


@transaction.atomic
def set_help_contact(organisation: Organisation, contact: str) -> Organisation:
    """Say how leads reach the organisation (the HELP answer's ``{contact}``):
    a phone number, an email or a web address; '' for the number they texted."""
    organisation.help_contact = clean_text(contact, "help contact", HELP_CONTACT)
    organisation.save(update_fields=["help_contact"])
    return organisation


# -- telling the consoles -------------------------------------------------------

class _Announcement:
    """A publish registered to run once its transaction commits."""

    def __init__(self, key: tuple, publish) -> None:
        self.key = key
        self.publish = publish

    def __call__(self) -> None:
        self.publish()


def _once_per_transaction(key: tuple, publish) -> None:
    """Run ``publish`` after the current transaction commits (at once outside
    one), once per ``key`` however many rows of it the transaction saved."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        publish()
        return
    # A savepoint rolled back takes its registrations with it: one found here
    # will run (as publish._flush_on_commit finds its flush).
    for _savepoints, func, _robust in connection.run_on_commit:
        if isinstance(func, _Announcement) and func.key == key:
            return
    transaction.on_commit(_Announcement(key, publish), robust=True)


def agent_changed(agent_id: int, organisation_id: int) -> None:
    """Tell an agent's consoles that their rights changed."""

    def publish():
        emit(
            organisation_id,
            events.AgentUpdated(type=events.AGENT_UPDATED, agent=agent_id),
            [events.agent_group(agent_id)],
        )

    _once_per_transaction(("agent", agent_id), publish)


def organisation_changed(organisation_id: int) -> None:
    """Tell every console of an organisation that its plan changed."""

    def publish():
        emit(
            organisation_id,
            events.OrganisationUpdated(
                type=events.ORGANISATION_UPDATED, organisation=organisation_id
            ),
            [events.organisation_group(organisation_id)],
        )

    _once_per_transaction(("organisation", organisation_id), publish)


def members_changed(agent_ids, organisation_id: int) -> None:
    for agent_id in agent_ids:
        agent_changed(agent_id, organisation_id)


@receiver(post_save, sender=Agent, dispatch_uid="rights-agent")
def _agent_saved(sender, instance: Agent, created: bool, **kwargs) -> None:
    if not created:  # a new seat has no console open yet
        agent_changed(instance.id, instance.organisation_id)


@receiver(post_save, sender=get_user_model(), dispatch_uid="rights-user")
def _user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    # Every sign-in saves last_login: no console needs to hear of that.
    if created or (update_fields and set(update_fields) <= {"last_login"}):
        return
    agent = Agent.objects.filter(user_id=instance.pk).values("id", "organisation_id")
    for row in agent:
        agent_changed(row["id"], row["organisation_id"])


@receiver(post_save, sender=Organisation, dispatch_uid="rights-organisation")
def _organisation_saved(sender, instance: Organisation, created: bool, **kwargs):
    if not created:
        organisation_changed(instance.id)


@receiver(post_save, sender=AgentGroup, dispatch_uid="rights-group")
def _group_saved(sender, instance: AgentGroup, created: bool, **kwargs) -> None:
    if not created:
        members_changed(
            instance.members.values_list("id", flat=True), instance.organisation_id
        )


@receiver(pre_delete, sender=AgentGroup, dispatch_uid="rights-group-deleted")
def _group_deleted(sender, instance: AgentGroup, **kwargs) -> None:
    members_changed(
        list(instance.members.values_list("id", flat=True)), instance.organisation_id
    )


@receiver(m2m_changed, sender=AgentGroup.members.through, dispatch_uid="rights-members")
def _members_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # agent.agent_groups.add(...): the agent is the instance
        members_changed([instance.id], instance.organisation_id)
    elif action == "pre_clear":
        members_changed(
            list(instance.members.values_list("id", flat=True)),
            instance.organisation_id,
        )
    else:
        members_changed(pk_set or (), instance.organisation_id)
