"""Unread counts (chatserver.queries.unread) for every kind of agent: the
visibility rule compiled once per kind counts what the rule itself shows."""

import pytest

from chatserver import actions
from chatserver.models import Agent, Message, ReadState
from chatserver.queries import access, unread
from tests.conftest import fictional_number

pytestmark = pytest.mark.django_db


def by_the_rule(agent: Agent) -> dict:
    """The agent's unread counts, read through the ORM's own visibility."""
    counts = {}
    for conversation in access.visible_conversations(agent):
        read = ReadState.objects.filter(conversation=conversation, agent=agent).first()
        last = read.last_read_message_id if read else 0
        n = Message.objects.filter(
            conversation=conversation, direction="in", id__gt=last or 0
        ).count()
        if n:
            counts[str(conversation.id)] = n
    return {"total": sum(counts.values()), "conversations": counts}


def test_every_kind_of_agent_counts_what_the_visibility_rule_shows(
    org, make_agent, text_in
):
    agents = {
        access_: make_agent(f"seat-{access_}", access=access_)
        for access_ in ("all", "unassigned", "mine", "assigned")
    }
    outsider = make_agent("outsider", access="mine", external=True)
    texts = [text_in(f"Lead {n}", from_number=fictional_number()) for n in range(5)]
    text_in("Again", from_number=texts[0].conversation.contact_number.number)
    actions.assign_lead(texts[1].conversation.lead, agents["mine"], actor=agents["all"])
    actions.assign_lead(texts[2].conversation.lead, agents["all"], actor=agents["all"])
    actions.share_lead(texts[3].conversation.lead, outsider, actor=agents["all"])
    actions.mark_read(agents["all"], texts[4].conversation, texts[4].id)

    for agent in [*agents.values(), outsider]:
        counts = unread.unread_counts(agent)
        assert counts == by_the_rule(agent), agent.access
        assert counts["total"] > 0, agent.access  # each sees something unread
