"""Unread counts: computed from each agent's read state, never kept apart.

A message is unread for an agent when it came from a lead and is newer than
what the agent has read in that conversation. Outbound messages (the agent's
own, or a colleague's) never count.
"""

from __future__ import annotations

from django.db import connection

from chatserver import events
from chatserver.models import Agent, Message, ReadState
from chatserver.models.prepared import Prepared, statement_cursor
from chatserver.queries import access

# An agent's unread inbound messages per conversation, among the
# conversations the agent may see (``{visible}``: access.visible_conversations,
# compiled by the ORM). Written out because every hello runs it: the ORM took
# three times as long to build it as PostgreSQL to answer it.
UNREAD_COUNTS_SQL = """
SELECT m.conversation_id, COUNT(*) FROM {message} m
LEFT JOIN {readstate} r
    ON r.conversation_id = m.conversation_id AND r.agent_id = %s
WHERE m.conversation_id IN ({{visible}}) AND m.direction = %s
    AND m.id > COALESCE(r.last_read_message_id, 0)
GROUP BY m.conversation_id
""".format(message=Message._meta.db_table, readstate=ReadState._meta.db_table)


# The conversations an agent may see (the rule: access.visible_conversations),
# compiled once per kind of agent: the rule reads nothing else of them.
_VISIBLE = Prepared(
    lambda organisation_id, agent_id, kind: access.visible_conversations(
        Agent(
            id=agent_id,
            organisation_id=organisation_id,
            is_external=kind[0],
            access=kind[1],
        )
    ).values("id"),
    int,
    int,
)


def unread_counts(agent: Agent) -> events.UnreadCounts:
    """The agent's unread inbound messages per conversation, and their total.

    A message is unread for an agent when it came from a lead and is newer
    than what the agent has read in that conversation. Outbound messages
    (the agent's own, or a colleague's) never count.
    """
    visible_sql, visible_params = _VISIBLE.sql(
        agent.organisation_id, agent.id, shape=(agent.is_external, agent.access)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            UNREAD_COUNTS_SQL.format(visible=visible_sql),
            [agent.id, *visible_params, Message.Direction.INBOUND.value],
        )
        rows = cursor.fetchall()
    conversations = {str(conversation_id): n for conversation_id, n in rows}
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
    with statement_cursor() as cursor:
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
