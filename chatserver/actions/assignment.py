"""Who has a lead: assigning, claiming by replying, sharing read-only, each
published live; a new assignee is emailed."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction

from chatserver import events, links
from chatserver.actions import followups
from chatserver.actions.lead_events import lead_state, locked, publish_lead, touch_lead
from chatserver.models import Agent, Lead
from chatserver.rules.errors import ActionError

log = logging.getLogger(__name__)


def check_assignee(lead: Lead, agent: Agent | None) -> None:
    """Refuse anyone but an active internal agent of the lead's organisation."""
    if agent is None:
        return
    if agent.organisation_id != lead.organisation_id:
        raise ActionError("No such agent.", "not_found")
    if agent.is_external:
        raise ActionError(
            "Leads can only be assigned to agents of this team, not to external "
            "users (share the lead with them instead)."
        )
    if not agent.user.is_active:
        raise ActionError(f"{agent.name} is deactivated: pick another agent.")


@transaction.atomic
def assign_lead(
    lead: Lead, agent: Agent | None, actor: Agent | None, reason: str = ""
) -> Lead:
    """Give the lead to ``agent`` (None: back to Unassigned), live for everyone.

    Those who could see the lead before and no longer can are told too, so a
    previous assignee's chatbox greys out at once. Assigning a lead to whom it
    already has changes nothing. The new assignee gets an email unless they
    took the lead themselves.
    """
    lead = locked(lead)
    check_assignee(lead, agent)
    if lead.assignee_id == (agent.id if agent else None):
        return lead
    before = lead_state(lead)
    previous = lead.assignee_id
    lead.assignee = agent
    lead.save(update_fields=["assignee"])
    touch_lead(lead)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        before=before,
        change="assigned",
        previous_assignee=previous,
        by=actor.id if actor else None,
        reason=reason,
    )
    if agent is not None:
        # The lead's follow-ups are its assignee's to do.
        followups.follow_the_lead(lead, agent, actor)
    if agent is not None and (actor is None or actor.id != agent.id):
        transaction.on_commit(lambda: email_new_assignee(lead, agent, actor))
    return lead


@transaction.atomic
def claim_lead(lead: Lead, agent: Agent, reason: str = "replied") -> Lead:
    """Give an unassigned lead to the agent answering it. ActionError when a
    colleague took it meanwhile (two agents replying at once: one gets it)."""
    current = locked(lead)
    if current.assignee_id not in (None, agent.id):
        raise ActionError(
            f"{current.assignee.name} took this lead a moment ago.", "forbidden"
        )
    return assign_lead(current, agent, actor=agent, reason=reason)


def email_new_assignee(lead: Lead, agent: Agent, actor: Agent | None) -> None:
    """Tell an agent by email that a lead is now theirs. A mail server that
    fails does not undo the assignment; it is logged."""
    address = agent.user.email
    if not address:
        return
    by = f" by {actor.name}" if actor else ""
    # The console opens the lead's conversation from ``/?lead=<id>`` (after
    # the sign-in page, when the agent is signed out).
    link = links.public_url(links.lead_path(lead.id))
    body = (
        f"Hello {agent.user.first_name or agent.name},\n\n"
        f"The lead {lead.name} was assigned to you{by}.\n"
        f"Open it: {link}\n"
    )
    try:
        send_mail(
            f"Lead assigned to you: {lead.name}",
            body,
            None,  # DEFAULT_FROM_EMAIL
            [address],
        )
    except Exception:  # the assignment stands; the mail server is not our truth
        log.exception("could not email %s about lead %s", address, lead.id)


@transaction.atomic
def share_lead(
    lead: Lead, agent: Agent, actor: Agent | None, share: bool = True
) -> Lead:
    """Share a lead read-only with an external user of the organisation (or,
    with ``share=False``, stop sharing it). Sharing twice changes nothing."""
    lead = locked(lead)
    if agent.organisation_id != lead.organisation_id:
        raise ActionError("No such agent.", "not_found")
    if not agent.is_external:
        raise ActionError(
            "Only external users are shared leads: assign it to agents of the team."
        )
    shared = lead.shared_with.filter(pk=agent.pk).exists()
    if shared == share:
        return lead
    before = lead_state(lead)
    if share:
        lead.shared_with.add(agent)
    else:
        lead.shared_with.remove(agent)
    publish_lead(
        lead,
        events.LEAD_UPDATED,
        before=before,
        change="shared" if share else "unshared",
        agent=agent.id,
        by=actor.id if actor else None,
    )
    return lead


# -- closing and reopening ------------------------------------------------------
