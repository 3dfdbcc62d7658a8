"""Who may see and text what: every access rule, in one place."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from chatserver.models import Agent, Conversation, Lead, SmsPermission


def lead_visibility(agent: Agent, prefix: str = "") -> Q:
    """A filter for the leads an agent may see (``prefix`` reaches them
    through a relation, e.g. ``"conversation__lead__"``).

    All: every lead. Unassigned: leads nobody has, and their own. Mine: their
    own. Assigned: every lead somebody has. Plus leads shared with them. An
    external agent sees only what is shared with them.
    """
    p = prefix
    shared = Q(**{f"{p}shared_with": agent})
    if agent.is_external:
        return Q(**{f"{p}organisation_id": agent.organisation_id}) & shared
    organisation = Q(**{f"{p}organisation_id": agent.organisation_id})
    if agent.access == Agent.Access.ALL:
        return organisation
    mine = Q(**{f"{p}assignee": agent})
    by_access = {
        Agent.Access.UNASSIGNED: Q(**{f"{p}assignee__isnull": True}) | mine,
        Agent.Access.MINE: mine,
        Agent.Access.ASSIGNED: Q(**{f"{p}assignee__isnull": False}),
    }[agent.access]
    return organisation & (by_access | shared)


def visible_leads(agent: Agent) -> QuerySet[Lead]:
    """The leads an agent may see."""
    return Lead.objects.filter(lead_visibility(agent)).distinct()


def visible_conversations(agent: Agent) -> QuerySet[Conversation]:
    """The conversations of the leads an agent may see."""
    leads = visible_leads(agent).values("id")
    return Conversation.objects.filter(lead_id__in=leads)


def can_see_lead(agent: Agent, lead: Lead) -> bool:
    """Whether the agent may see this lead (and all of its history)."""
    if lead.organisation_id != agent.organisation_id:
        return False
    if not agent.is_external:
        access = agent.access
        if access == Agent.Access.ALL:
            return True
        if lead.assignee_id == agent.id:
            return True
        if access == Agent.Access.UNASSIGNED and lead.assignee_id is None:
            return True
        if access == Agent.Access.ASSIGNED and lead.assignee_id is not None:
            return True
    return lead.shared_with.filter(pk=agent.pk).exists()


def sms_allowed(agent: Agent) -> bool:
    """Whether the agent may send SMS at all.

    The agent's own setting decides when it is set; otherwise their groups do,
    and one group that denies wins over any that allow. Unset everywhere means
    no: texting leads needs a deliberate yes.
    """
    if agent.is_external:
        return False
    if agent.sms:
        return agent.sms == SmsPermission.ALLOW
    group_settings = set(agent.agent_groups.exclude(sms="").values_list("sms", flat=True))
    if SmsPermission.DENY in group_settings:
        return False
    return SmsPermission.ALLOW in group_settings


def why_cannot_text(agent: Agent, lead: Lead) -> str | None:
    """Why this agent may not text this lead now, or None when they may.

    Only an agent with SMS allowed who is assigned to the lead may text it;
    replying to an unassigned lead claims it. Consent and quiet hours are the
    number's rules, checked on send by ``chatserver.actions``.
    """
    if not can_see_lead(agent, lead):
        return "You cannot see this lead."
    if agent.is_external:
        return "This lead is shared with you read-only."
    if not sms_allowed(agent):
        return "You do not have permission to send SMS."
    if lead.status == Lead.Status.CLOSED:
        return "This lead is closed: reopen it to text."
    if lead.assignee_id not in (None, agent.id):
        return f"This lead is assigned to {lead.assignee.name}."
    return None
