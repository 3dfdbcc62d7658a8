"""What a chatbox shows beside the thread: ``GET /api/conversations/<id>``.

The lead's contacts with their numbers and consent, the agents assigned, whom
the lead may be assigned to, the templates rendered for this conversation, the
lead's notes, and why the agent may not text here now. Read-only, and every
rule comes from where it lives (``access``, ``consent``, ``compliance``):
this module only gathers.
"""

from __future__ import annotations

from chatserver import shapes
from chatserver.models import (
    Agent,
    Conversation,
    Message,
    MessageCategory,
    Note,
    Template,
)
from chatserver.queries import access, compliance, console, followups
from chatserver.queries.contacts import contacts_data
from chatserver.rules import quiet_hours, templating

NOTES_SHOWN = 50


def quiet_hours_data(conversation: Conversation) -> dict | None:
    """Quiet hours for the lead now: the reason and when a text may go."""
    verdict = compliance.quiet_verdict(conversation)
    if not verdict.quiet:
        return None
    refusal = compliance.QuietHours(
        verdict, compliance.window_of(conversation.organisation)
    )
    local = refusal.details["next_allowed_local"]
    return {
        "quiet": True,
        "reason": refusal.reason,
        "next_allowed": refusal.details["next_allowed"],
        "next_allowed_local": local,
        "next_allowed_label": local[11:16],
    }


def templates_data(agent: Agent, conversation: Conversation) -> list[dict]:
    """The organisation's templates, filled in for this conversation; a
    template that does not render (an admin's typo) is left out."""
    context = templating.Context(
        organisation=conversation.organisation,
        lead=conversation.lead,
        contact=conversation.contact_number.contact,
        agent=agent,
        sender=conversation.sender,
    )
    rendered = []
    for template in Template.objects.filter(
        organisation_id=conversation.organisation_id
    ).select_related("category"):
        try:
            body = templating.render(template.body, context)
        except templating.TemplateError:
            continue
        rendered.append(
            {
                "id": template.id,
                "name": template.name,
                "body": body,
                "category": template.category_id,
                "category_name": template.category.name if template.category_id else "",
            }
        )
    return rendered


def conversation_details(agent: Agent, conversation: Conversation) -> dict:
    """Everything a chatbox shows about a conversation the agent may see."""
    lead = conversation.lead
    organisation_id = conversation.organisation_id
    last = (
        Message.objects.filter(conversation=conversation)
        .select_related("author__user", "conversation")
        .order_by("-id")
        .first()
    )
    may_change = access.may_change_lead(agent, lead) is None
    notes = list(
        Note.objects.filter(lead=lead)
        .select_related("author__user")
        .order_by("-id")[:NOTES_SHOWN]
    )
    return {
        "conversation": console.conversation_summary(conversation, last),
        "lead": shapes.lead_data(lead),
        "contacts": contacts_data(conversation),
        "shared_with": [
            {"id": a.id, "name": a.name}
            for a in lead.shared_with.select_related("user")
        ],
        "may_assign": may_change,
        "agents": (
            [
                {"id": a.id, "name": a.name}
                for a in access.assignable_agents(organisation_id).select_related(
                    "user"
                )
            ]
            if may_change
            else []
        ),
        "text_block": access.why_cannot_text(agent, lead),
        "quiet_hours": quiet_hours_data(conversation),
        # The lead's clock, for "Send later" ("tomorrow 9:00 their time").
        "lead_time_zone": quiet_hours.lead_zone(conversation.contact_number.number),
        "templates": templates_data(agent, conversation),
        "categories": [
            {"id": c.id, "name": c.name}
            for c in MessageCategory.objects.filter(organisation_id=organisation_id)
        ],
        "notes": [shapes.note_data(n) for n in reversed(notes)],
        "followups": followups.lead_followups(lead),
        "enrollments": followups.lead_enrollments(lead),
        # The workflows the lead may be enrolled in from here.
        "workflows": [
            {"id": w.id, "name": w.name}
            for w in followups.workflows_of(organisation_id)
        ],
    }
