"""Unread counts: computed from each agent's read state, never kept apart.

A message is unread for an agent when it came from a lead and is newer than
what the agent has read in that conversation. Outbound messages (the agent's
own, or a colleague's) never count.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from chatserver import events
from chatserver.models import Agent, Message, ReadState
from chatserver.queries import access


def unread_counts(agent: Agent) -> events.UnreadCounts:
    """The agent's unread inbound messages per conversation, and their total.

    A message is unread for an agent when it came from a lead and is newer
    than what the agent has read in that conversation. Outbound messages
    (the agent's own, or a colleague's) never count.
    """
    last_read = ReadState.objects.filter(
        agent=agent, conversation=OuterRef("conversation")
    ).values("last_read_message_id")
    rows = (
        Message.objects.filter(
            conversation__in=access.visible_conversations(agent),
            direction=Message.Direction.INBOUND,
        )
        .annotate(read_up_to=Coalesce(Subquery(last_read), Value(0)))
        .filter(id__gt=F("read_up_to"))
        .values("conversation_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    conversations = {str(row["conversation_id"]): row["n"] for row in rows}
    return {"total": sum(conversations.values()), "conversations": conversations}


# Every agent's unread count of one conversation in one round trip: the
# count of an agent who never read it (agent NULL), then each reader's.
CONVERSATION_UNREAD_SQL = """
SELECT NULL, COUNT(*) FROM {message}
WHERE conversation_id = %(c)s AND direction = %(inbound)s
UNION ALL
SELECT r.agent_id, (
    SELECT COUNT(*) FROM {message} m
    WHERE m.conversation_id = r.conversation_id AND m.direction = %(inbound)s
    AND m.id > r.last_read_message_id
) FROM {readstate} r WHERE r.conversation_id = %(c)s
""".format(message=Message._meta.db_table, readstate=ReadState._meta.db_table)


def conversation_unread(conversation_id: int) -> dict:
    """Every agent's unread count of one conversation, as sockets receive it
    with a lead's message: ``{"default": n, "agents": {"<agent id>": n}}``.

    ``default`` is the count of an agent who never read the conversation (all
    of its inbound messages); ``agents`` lists those who did. It runs in
    every publish of a lead's text: one statement, not two.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            CONVERSATION_UNREAD_SQL,
            {"c": conversation_id, "inbound": Message.Direction.INBOUND.value},
        )
        rows = cursor.fetchall()
    default = next((n for agent_id, n in rows if agent_id is None), 0)
    return {
        "default": default,
        "agents": {str(agent_id): n for agent_id, n in rows if agent_id is not None},
    }


def conversation_unread_for(agent_id: int, conversation_id: int) -> int:
    """One agent's unread count of one conversation."""
    last_read = (
        ReadState.objects.filter(agent_id=agent_id, conversation_id=conversation_id)
        .values_list("last_read_message_id", flat=True)
        .first()
    ) or 0
    return Message.objects.filter(
        conversation_id=conversation_id,
        direction=Message.Direction.INBOUND,
        id__gt=last_read,
    ).count()
