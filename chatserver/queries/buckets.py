"""The buckets a console sorts leads into, per agent, and their counts.

Unassigned: open leads nobody has (new leads land here). Mine: open leads
assigned to me. Assigned: open leads assigned to someone else. Closed: closed
leads. Each within the leads the agent may see (``chatserver.queries.access``).
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from chatserver import events
from chatserver.models import Agent, Lead
from chatserver.queries import access

UNASSIGNED = "unassigned"
MINE = "mine"
ASSIGNED = "assigned"
CLOSED = "closed"
BUCKETS = (UNASSIGNED, MINE, ASSIGNED, CLOSED)


def bucket_filter(agent: Agent, bucket: str, prefix: str = "") -> Q:
    """A filter for one bucket's leads (visibility aside); ``prefix`` reaches
    them through a relation (``"conversation__lead__"`` for messages)."""
    p = prefix
    open_ = Q(**{f"{p}status": Lead.Status.OPEN})
    return {
        UNASSIGNED: open_ & Q(**{f"{p}assignee__isnull": True}),
        MINE: open_ & Q(**{f"{p}assignee_id": agent.id}),
        ASSIGNED: open_
        & Q(**{f"{p}assignee__isnull": False})
        & ~Q(**{f"{p}assignee_id": agent.id}),
        CLOSED: Q(**{f"{p}status": Lead.Status.CLOSED}),
    }[bucket]


def leads_in(agent: Agent, bucket: str) -> QuerySet[Lead]:
    """The leads the agent may see in one bucket."""
    return access.visible_leads(agent).filter(bucket_filter(agent, bucket))


def counts(agent: Agent) -> dict[str, int]:
    """How many leads the agent may see in each bucket (one query)."""
    return counts_in(agent, access.visible_leads(agent))


def counts_in(agent: Agent, rows: QuerySet, prefix: str = "") -> dict[str, int]:
    """How many of ``rows`` (leads, or rows reaching their lead through
    ``prefix``) fall in each of the agent's buckets (one query)."""
    totals = rows.order_by().aggregate(
        **{
            bucket: Count("id", filter=bucket_filter(agent, bucket, prefix))
            for bucket in BUCKETS
        }
    )
    return {bucket: totals[bucket] or 0 for bucket in BUCKETS}


def bucket_of(agent_id: int, assignee_id: int | None, status: str) -> str:
    """Which of an agent's buckets a lead is in."""
    if status == Lead.Status.CLOSED:
        return CLOSED
    if assignee_id is None:
        return UNASSIGNED
    return MINE if assignee_id == agent_id else ASSIGNED


def place(agent: Agent, lead_state: dict | None) -> str | None:
    """The agent's bucket for a lead as an event describes it (``assignee``,
    ``status``, ``audience``), or None when the agent does not see it."""
    if not lead_state or not events.in_audience(agent, lead_state.get("audience")):
        return None
    return bucket_of(agent.id, lead_state.get("assignee"), lead_state["status"])


def apply(agent: Agent, tally: dict[str, int], before, after) -> bool:
    """Move one lead between the agent's bucket counts, from its state before
    an event to its state after (either None: not seen). Returns whether the
    counts changed. No database access: each socket keeps its own tally."""
    old, new = place(agent, before), place(agent, after)
    if old == new:
        return False
    if old is not None:
        tally[old] = max(0, tally.get(old, 0) - 1)
    if new is not None:
        tally[new] = tally.get(new, 0) + 1
    return True
