"""The part of a ``hello`` that every agent who sees all of an organisation's
leads shares, built once for the many consoles that greet at once.

When a process restarts, all of its consoles reconnect within seconds (a
deploy: docs/performance.md, "storm"), and most of each one's hello is the
same for every agent with access *All*: the open conversations with their
last message and consent, and how many leads each assignee holds. Building
that part for each socket was most of a hello's cost. A ``Snapshot`` of it is
built by the first hello and shared by the hellos that read the same cursor
within ``HELLO_SHARE_SECONDS``; each hello still reads its own cursor, rights,
unread counts and follow-ups.

Why a shared snapshot is as true as a fresh read: cursors are given after
the commit of the transaction that stored an event (``chatserver.publish``),
so a state read after the organisation's newest cursor C was read holds every
event up to C. A later hello that reads the same C, with no committed event
still waiting for its number (``settled``), has nothing more to see: every
event committed before it read C is numbered at most C, and any event after
C is published after that hello joined its groups, so it arrives live. A
hello that is not settled reads everything itself. What the window can hide
is a write that emits no event (an edit in the Django admin), for at most
``HELLO_SHARE_SECONDS``; consoles would not see that one live either.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from chatserver.models import Agent, FollowUp, Lead
from chatserver.queries import buckets
from chatserver.rules import images


class Serialised(list):
    """A snapshot's list, which many hellos carry unchanged: made JSON once
    (``dumps``), not once per console (in a storm, 2,000 times)."""

    @functools.cached_property
    def json(self) -> str:
        return json.dumps(self)


def dumps(state: dict) -> str:
    """A hello (or reload) as JSON: ``json.dumps``, except that conversations
    that are a snapshot's go in as the JSON it made of them once."""
    conversations = state["conversations"]
    if not isinstance(conversations, Serialised):
        return json.dumps(state)
    rest = json.dumps({k: v for k, v in state.items() if k != "conversations"})
    return f'{rest[:-1]}, "conversations": {conversations.json}}}'


@dataclass(frozen=True)
class Snapshot:
    """An organisation's state as every agent with access All sees it."""

    cursor: int
    built: float  # time.monotonic()
    # The open conversations as consoles list them (console.open_conversations).
    conversations: Serialised
    # How many leads each (status, assignee id) pair holds.
    leads: Counter
    # Whether any follow-up of the organisation is pending (else a hello
    # needs no query for the agent's Outstanding list).
    followups_pending: bool

    @functools.cached_property
    def conversations_without_images(self) -> Serialised:
        """The conversations as agents who are not shown images get them."""
        return Serialised(images.hide_images(self.conversations))

    def buckets(self, agent_id: int) -> dict[str, int]:
        """One agent's bucket counts, by the rule ``buckets.bucket_of``."""
        counts = dict.fromkeys(buckets.BUCKETS, 0)
        for (status, assignee), n in self.leads.items():
            counts[buckets.bucket_of(agent_id, assignee, status)] += n
        return counts


def shares(agent: Agent) -> bool:
    """Whether the agent sees what every agent with access All sees."""
    return not agent.is_external and agent.access == Agent.Access.ALL


_guard = threading.Lock()
_locks: dict[int, threading.Lock] = {}
_latest: dict[int, Snapshot] = {}


def shared(agent: Agent, cursor: int, settled: bool, build) -> Snapshot:
    """The snapshot for a hello of ``agent`` (who ``shares``) that read
    ``cursor``: a fresh one when none fits, made by ``build(agent, cursor)``.

    One hello of an organisation builds at a time; the others wait for it
    and take what it built when it read the same cursor, rather than all
    building the same thing at once.
    """
    window = settings.HELLO_SHARE_SECONDS
    if not settled or window <= 0:
        return build(agent, cursor)
    organisation = agent.organisation_id
    with _guard:
        lock = _locks.setdefault(organisation, threading.Lock())
    with lock:
        last = _latest.get(organisation)
        if (
            last is not None
            and last.cursor == cursor
            and time.monotonic() - last.built <= window
        ):
            return last
        made = build(agent, cursor)
        if last is None or made.cursor >= last.cursor:
            _latest[organisation] = made
        return made


def lead_tally(organisation_id: int) -> Counter:
    """How many of the organisation's leads each (status, assignee) pair holds."""
    rows = (
        Lead.objects.filter(organisation_id=organisation_id)
        .values_list("status", "assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({(status, assignee): n for status, assignee, n in rows})


def followups_pending(organisation_id: int) -> bool:
    """Whether any follow-up of the organisation is pending."""
    return FollowUp.objects.filter(
        organisation_id=organisation_id, done_at__isnull=True
    ).exists()


def forget() -> None:
    """Drop every snapshot (tests: each starts from an empty process)."""
    with _guard:
        _latest.clear()
