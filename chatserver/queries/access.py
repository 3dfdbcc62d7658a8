"""Who may see and text what: every access rule, in one place.

Seeing: an agent's access level picks leads by assignment (All: every lead;
Unassigned: leads nobody has, and their own; My leads: their own; Assigned:
every lead somebody has), plus the leads shared with them. An external agent
sees only the leads shared with them, read-only. Nobody ever sees another
organisation's leads. Whoever may see a lead sees all of its history.

Texting: an internal agent with SMS allowed, on an open lead that is theirs or
nobody's (replying to an unassigned lead claims it).

Clients learn the same rules from ``events.audience_for_lead`` (who sees a
lead) and from ``text_block_reason`` (why the text box is greyed).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from chatserver.models import (
    Agent,
    AgentGroup,
    Attachment,
    Conversation,
    Lead,
    SmsPermission,
)
from chatserver.models.prepared import Prepared
from chatserver.rules import images


def shared_with_filter(agent: Agent, prefix: str = "") -> Q:
    """Leads shared with the agent, as a subquery (a join on the share table
    would repeat a lead once per share and force DISTINCT on every list)."""
    shares = Lead.shared_with.through.objects.filter(agent_id=agent.id).values(
        "lead_id"
    )
    return Q(**{f"{prefix}id__in": shares})


def lead_visibility(agent: Agent, prefix: str = "") -> Q:
    """A filter for the leads an agent may see (``prefix`` reaches them
    through a relation, e.g. ``"conversation__lead__"``)."""
    p = prefix
    organisation = Q(**{f"{p}organisation_id": agent.organisation_id})
    shared = shared_with_filter(agent, p)
    if agent.is_external:
        return organisation & shared
    if agent.access == Agent.Access.ALL:
        return organisation
    mine = Q(**{f"{p}assignee_id": agent.id})
    by_access = {
        Agent.Access.UNASSIGNED: Q(**{f"{p}assignee__isnull": True}) | mine,
        Agent.Access.MINE: mine,
        Agent.Access.ASSIGNED: Q(**{f"{p}assignee__isnull": False}),
    }[agent.access]
    return organisation & (by_access | shared)


def visible_leads(agent: Agent) -> QuerySet[Lead]:
    """The leads an agent may see (each once: no DISTINCT needed)."""
    return Lead.objects.filter(lead_visibility(agent))


def visible_conversations(agent: Agent) -> QuerySet[Conversation]:
    """The conversations of the leads an agent may see."""
    return Conversation.objects.filter(lead_visibility(agent, "lead__"))


def sees_by_access(agent: Agent, assignee_id: int | None) -> bool:
    """Whether the agent's access level alone shows a lead with this assignee
    (shares aside). Internal agents only."""
    if agent.is_external:
        return False
    access = agent.access
    return (
        access == Agent.Access.ALL
        or (assignee_id is not None and assignee_id == agent.id)
        or (access == Agent.Access.UNASSIGNED and assignee_id is None)
        or (access == Agent.Access.ASSIGNED and assignee_id is not None)
    )


def can_see_lead(agent: Agent, lead: Lead) -> bool:
    """Whether the agent may see this lead (and all of its history)."""
    if lead.organisation_id != agent.organisation_id:
        return False
    if sees_by_access(agent, lead.assignee_id):
        return True
    return lead.shared_with.filter(pk=agent.pk).exists()


def find_lead(agent: Agent, lead_id) -> Lead | None:
    """The lead with this id if the agent may see it; None otherwise, whether
    it does not exist, is hidden or is another organisation's (callers answer
    "not found" for all three, so ids cannot be probed)."""
    if isinstance(lead_id, bool) or not isinstance(lead_id, int):
        return None
    return (
        visible_leads(agent).select_related("assignee__user").filter(pk=lead_id).first()
    )


def find_conversation(agent: Agent, conversation_id) -> Conversation | None:
    """The conversation with this id if the agent may see its lead."""
    if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
        return None
    return (
        visible_conversations(agent)
        .select_related("lead__assignee__user", "contact_number__contact", "sender")
        .filter(pk=conversation_id)
        .first()
    )


def may_see_images(agent: Agent) -> bool:
    """Whether the agent is shown MMS images: their organisation has MMS on
    and they have "display images" on. Others are told an image was sent."""
    return bool(agent.organisation.mms_enabled and agent.display_images)


def find_attachment(agent: Agent, attachment_id: int) -> Attachment | None:
    """An attachment of a conversation the agent may see; None otherwise
    (missing, hidden and another organisation's alike)."""
    visible = lead_visibility(agent, "message__conversation__lead__")
    return (
        Attachment.objects.filter(visible, pk=attachment_id)
        .select_related("message")
        .first()
    )


def why_cannot_send_images(agent: Agent) -> str | None:
    """Why the agent may not attach images to a text (texting itself is
    ``why_cannot_text``), or None."""
    if not agent.organisation.mms_enabled:
        return "Sending images (MMS) is not enabled for your organisation."
    return None


def sms_allowed(agent: Agent) -> bool:
    """Whether the agent may send SMS at all, read from the database now.

    "Allow SMS" is set on the agent and on each of their groups: Allow, Deny
    or unset. A Deny anywhere (the agent's own or any group's) wins;
    otherwise an Allow on the agent or on any group allows; unset
    everywhere means no, since texting leads needs a deliberate yes. The
    rule an admin expects from Allow and Deny columns. External agents never
    text.
    """
    if agent.is_external:
        return False
    settings = {sms for (sms,) in _GROUP_SMS(agent.id)}
    if agent.sms:
        settings.add(agent.sms)
    return SmsPermission.DENY not in settings and SmsPermission.ALLOW in settings


# The SMS settings of an agent's groups, compiled once: every hello reads them.
_GROUP_SMS = Prepared(
    lambda agent_id: AgentGroup.objects.filter(members=agent_id)
    .exclude(sms="")
    .order_by()
    .values_list("sms"),
    int,
)


def text_block_reason(
    agent: Agent, lead: Lead, *, sms_ok: bool, assignee_name: str = ""
) -> str | None:
    """Why this agent may not text a lead they can see, or None: the rule
    without database access (``sms_ok`` is ``sms_allowed(agent)``)."""
    if agent.is_external:
        return "This lead is shared with you read-only."
    if not sms_ok:
        return "You do not have permission to send SMS."
    if lead.status == Lead.Status.CLOSED:
        return "This lead is closed: reopen it to text."
    if lead.assignee_id not in (None, agent.id):
        return f"This lead is assigned to {assignee_name or 'another agent'}."
    return None


def why_cannot_text(agent: Agent, lead: Lead) -> str | None:
    """Why this agent may not text this lead now, or None when they may.

    Only an agent with SMS allowed who is assigned to the lead may text it;
    replying to an unassigned lead claims it. Consent and quiet hours are the
    number's rules, checked on send by ``chatserver.actions``.
    """
    if not can_see_lead(agent, lead):
        return "You cannot see this lead."
    name = lead.assignee.name if lead.assignee_id else ""
    return text_block_reason(agent, lead, sms_ok=sms_allowed(agent), assignee_name=name)


def may_change_lead(agent: Agent, lead: Lead) -> str | None:
    """Why the agent may not assign, close, reopen or edit this lead, or None.

    Any internal agent who may see a lead may change it; a share is read-only.
    """
    if not can_see_lead(agent, lead):
        return "No such lead."
    if agent.is_external:
        return "This lead is shared with you read-only."
    return None


def assignable_agents(organisation_id: int) -> QuerySet[Agent]:
    """The agents a lead of this organisation may be assigned to: its active
    internal agents."""
    return Agent.objects.filter(
        organisation_id=organisation_id, is_external=False, user__is_active=True
    )


def is_admin(agent: Agent) -> bool:
    """Whether the agent administers their organisation (staff login)."""
    return bool(agent.user.is_staff and agent.user.is_active)


def images_for(agent: Agent, data: Any) -> Any:
    """``data`` as this agent may have it: without image URLs unless their
    organisation has MMS on and they display images."""
    return data if may_see_images(agent) else images.hide_images(data)
