"""What a chatbox shows beside the thread: ``GET /api/conversations/<id>``.

The lead's contacts with their numbers and consent, the agents assigned, whom
the lead may be assigned to, the templates rendered for this conversation, the
lead's notes, and why the agent may not text here now. Read-only, and every
rule comes from where it lives (``access``, ``actions.consent``,
``actions.compliance``): this module only gathers.
"""

from __future__ import annotations

from chatserver.queries import access, console as state
from chatserver.rules import templating
from chatserver.actions import compliance, consent
from chatserver.actions.leads import lead_data
from chatserver.actions.notes import note_data
from chatserver.commands.leads import contact_data
from chatserver.models import (
    Agent,
    Contact,
    Conversation,
    Message,
    MessageCategory,
    Note,
    Template,
)

NOTES_SHOWN = 50


def contacts_data(conversation: Conversation) -> list[dict]:
    """The lead's contacts (as ``lead_ops.contact_data`` gives them), borrower
    first, each number with its consent state and the conversation the agent
    would open for it (one on this conversation's sender number preferred)."""
    lead = conversation.lead
    contacts = sorted(
        lead.contacts.prefetch_related("numbers"),
        key=lambda c: (c.role != Contact.Role.BORROWER, c.id),
    )
    numbers = [n.number for c in contacts for n in c.numbers.all()]
    consents = consent.states_of(lead.organisation_id, set(numbers))
    # Per number: its most recent conversation, one on our sender preferred.
    threads: dict[int, tuple[int, bool]] = {}
    rows = Conversation.objects.filter(lead=lead).order_by("-last_message_at", "-id")
    for number_id, conversation_id, sender_id in rows.values_list(
        "contact_number_id", "id", "sender_id"
    ):
        ours = sender_id == conversation.sender_id
        if number_id not in threads or (ours and not threads[number_id][1]):
            threads[number_id] = (conversation_id, ours)
    threads[conversation.contact_number_id] = (conversation.id, True)
    result = []
    for contact in contacts:
        data = contact_data(contact)
        data["role_label"] = contact.get_role_display()
        for number in data["numbers"]:
            number["consent"] = consents.get(
                number["number"], consent.State.NOT_AUTHORIZED
            )
            number["conversation"] = threads.get(number["id"], (None, False))[0]
        result.append(data)
    return result


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
        "conversation": state.conversation_summary(conversation, last),
        "lead": lead_data(lead),
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
        "templates": templates_data(agent, conversation),
        "categories": [
            {"id": c.id, "name": c.name}
            for c in MessageCategory.objects.filter(organisation_id=organisation_id)
        ],
        "notes": [note_data(n) for n in reversed(notes)],
    }
