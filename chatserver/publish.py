"""Store events, then number them in commit order and publish them to consoles.

An action calls ``emit`` inside its transaction: the event is stored with the
rows it describes, so both commit or neither does. Just after the commit,
``flush`` numbers the organisation's new events (their ``cursor``: 1, 2, 3, ...)
and publishes them to the channel layer, all under one lock per organisation.
Hence:

- cursors follow commit order, so a console that saw cursor c and resumes from
  c misses nothing (row ids would not do: the transaction that took id 10 may
  commit after the one that took id 11, and its event would be skipped);
- every socket receives an organisation's events in cursor order;
- a value computed by a flush (an agent's unread count, see ``signal``) is at
  least as new as every value published before it, so a socket that applies
  them in the order they arrive ends with the right one.

The channel layer is a doorbell: it may drop a message, and publishing failures
are only logged. The event is safe in the database; an event whose flush never
ran (the process died just after the commit) is numbered and published by the
organisation's next flush.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import DatabaseError, transaction
from django.db.models import Max

from chatserver import events
from chatserver.models import Event, Organisation
from chatserver.models.prepared import PreparedInsert, statement_cursor, together
from chatserver.queries import unread
from chatserver.rules import images

log = logging.getLogger(__name__)

# PostgreSQL advisory locks that serialise numbering live in this namespace
# (the first key), one per organisation (the second).
LOCK_NAMESPACE = 0x43485356
# A channel layer that does not answer within this many seconds is given up on,
# so a Redis outage never holds an organisation's lock for long.
PUBLISH_TIMEOUT = 5.0
# The routing key asking a flush to attach every agent's unread count of a
# conversation (its value: the conversation's id); see ``layer_message``.
UNREAD_OF = "unread_of"

# How often a process whose publish failed tries again to tell the sockets
# that missed its events (``_Missed``).
CATCH_UP_RETRY = 1.0

# What a signal's builder returns: the groups to publish to and the message,
# or None for nothing.
Signal = Callable[[], "tuple[Iterable[str], dict[str, Any]] | None"]


# Every action's events: their INSERT compiled once.
_INSERT_EVENT = PreparedInsert(Event)


def emit(
    organisation_id: int,
    event: events.Event,
    groups: Iterable[str],
    lead_id: int | None = None,
    socket_fields: dict[str, Any] | None = None,
) -> Event:
    """Store an event for consoles; it is numbered and published after commit.

    ``event`` (one of ``chatserver.events``' typed events, JSON-ready) is
    what browsers receive, with ``cursor`` added. ``groups`` are the
    channel-layer groups that reach everyone who may see it.
    ``socket_fields`` adds fields that sockets read to keep their own state
    and that browsers never see (the conversation, the direction of a
    message, ``UNREAD_OF``, ...); the event log keeps them in its ``routing``
    column.
    """
    events.check(event)
    stored = Event(
        organisation_id=organisation_id,
        lead_id=lead_id,
        type=event["type"],
        payload={k: v for k, v in event.items() if k != "type"},
        groups=sorted(set(groups)),
        routing=socket_fields or {},
    )
    _INSERT_EVENT.insert(stored, using=Event.objects.db)
    pending = _flush_on_commit(organisation_id)
    if pending is None:
        flush(organisation_id)
    return stored


def signal(organisation_id: int, build: Signal) -> None:
    """Publish what ``build()`` returns once the transaction commits.

    ``build`` runs inside the organisation's flush, under its lock, after the
    transaction's events are published: what it computes from the database is
    newer than anything published before, and reaches sockets in order with
    the events. Used for per-agent values such as unread counts.
    """
    pending = _flush_on_commit(organisation_id)
    if pending is None:
        flush(organisation_id, [build])
    else:
        pending.signals.append(build)


class _Flush:
    """The flush of one organisation that runs when a transaction commits."""

    def __init__(self, organisation_id: int):
        self.organisation_id = organisation_id
        self.signals: list[Signal] = []

    def __call__(self) -> None:
        flush(self.organisation_id, self.signals)


def _flush_on_commit(organisation_id: int) -> _Flush | None:
    """The flush registered to run after the current transaction commits
    (registered once per organisation and transaction), or None outside a
    transaction, where the caller flushes at once."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    # A savepoint that rolls back takes its registrations with it, so a flush
    # found here is one that will run.
    for _savepoints, func, _robust in connection.run_on_commit:
        if isinstance(func, _Flush) and func.organisation_id == organisation_id:
            return func
    pending = _Flush(organisation_id)
    transaction.on_commit(pending, robust=True)
    return pending


def flush(organisation_id: int, signals: Iterable[Signal] = ()) -> int:
    """Number the organisation's committed, unnumbered events and publish them,
    then the signals; returns how many events were numbered.

    Publishing happens before the numbering commits, still under the lock, so
    that the next flush cannot publish a higher cursor first. A socket that
    receives a cursor the database does not show yet loses nothing: that
    event's rows are committed, and a state read later includes them.
    """
    try:
        with transaction.atomic():
            numbered = _lock_and_number(organisation_id)
            unread_cache: dict[int, dict] = {}
            outgoing = [
                (event.groups, layer_message(event, unread_cache)) for event in numbered
            ]
            for build in signals:
                built = build()
                if built is not None:
                    outgoing.append(built)
            _send(outgoing)
    except DatabaseError:
        # Nothing is lost: the events stay unnumbered and the next flush of
        # the organisation numbers and publishes them.
        log.exception("could not number the events of organisation %s", organisation_id)
        return 0
    return len(numbered)


# The numbering (PostgreSQL), in one round trip: the organisation's lock,
# held until the transaction ends, then the next cursors, in id order, for its
# unnumbered events, which it returns. The numbering need not wait for its own
# disk flush: were it lost in a crash, the events would be numbered again by
# the next flush, in the same order.
LOCK_SQL = "SELECT pg_advisory_xact_lock(%(namespace)s, %(org)s)"
NO_FLUSH_WAIT_SQL = "SET LOCAL synchronous_commit TO OFF"
NUMBER_SQL = """
WITH last AS (
    SELECT COALESCE(MAX(cursor), 0) AS cursor FROM {event}
    WHERE organisation_id = %(org)s
), todo AS (
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM {event}
    WHERE organisation_id = %(org)s AND cursor IS NULL
)
UPDATE {event} AS e SET cursor = last.cursor + todo.n
FROM last, todo WHERE e.id = todo.id
RETURNING e.id, e.organisation_id, e.cursor, e.lead_id, e.type, e.payload,
    e.groups, e.routing
""".format(event=Event._meta.db_table)


def _lock_and_number(organisation_id: int) -> list[Event]:
    """Take the organisation's numbering lock (until the transaction ends),
    then give its committed, unnumbered events the next cursors, oldest first."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return _lock_and_number_elsewhere(organisation_id)
    params = {"namespace": LOCK_NAMESPACE, "org": organisation_id}
    with statement_cursor() as cursor:
        if cursor.prepares:
            with together(cursor):
                cursor.execute(LOCK_SQL, params)
                cursor.execute(NO_FLUSH_WAIT_SQL)
                cursor.execute(NUMBER_SQL, params)
        else:
            cursor.execute(f"{LOCK_SQL}; {NO_FLUSH_WAIT_SQL}; {NUMBER_SQL}", params)
            # The numbering's rows are the third result (lock, SET, UPDATE).
            cursor.nextset()
            cursor.nextset()
        rows = cursor.fetchall()
    # JSON columns come as text, as to any Django query: read as its fields do.
    json = Event._meta.get_field("payload")
    numbered = [
        Event(
            id=id_,
            organisation_id=org,
            cursor=number,
            lead_id=lead_id,
            type=type_,
            payload=json.from_db_value(payload, None, connection),
            groups=json.from_db_value(groups, None, connection),
            routing=json.from_db_value(routing, None, connection),
        )
        for id_, org, number, lead_id, type_, payload, groups, routing in rows
    ]
    return sorted(numbered, key=lambda event: event.cursor)


def _lock_and_number_elsewhere(organisation_id: int) -> list[Event]:
    """``_lock_and_number`` on another database: SQLite's transaction is
    itself the lock (it begins IMMEDIATE, see settings); others lock the
    organisation's row."""
    Organisation.objects.select_for_update().filter(pk=organisation_id).exists()
    events_ = list(
        Event.objects.filter(
            organisation_id=organisation_id, cursor__isnull=True
        ).order_by("id")
    )
    if not events_:
        return []
    last = (
        Event.objects.filter(organisation_id=organisation_id).aggregate(
            last=Max("cursor")
        )["last"]
        or 0
    )
    for cursor, event in enumerate(events_, start=last + 1):
        event.cursor = cursor
    Event.objects.bulk_update(events_, ["cursor"])
    return events_


def layer_message(event: Event, unread_cache: dict[int, dict] | None = None) -> dict:
    """An event as it travels on the channel layer to sockets.

    ``text`` is the JSON browsers receive, serialised once here; the other
    fields are for the sockets. ``UNREAD_OF`` in its socket fields becomes ``unread``:
    every agent's unread count of that conversation, computed now.
    """
    socket_fields = dict(event.routing)
    message = {
        "type": event.type,
        "cursor": event.cursor,
        "lead": event.lead_id,
        "text": events.serialise(event.type, event.cursor, event.payload),
    }
    hidden = images.hide_images(event.payload)
    if hidden is not event.payload:
        # For sockets of agents who may not see images: the same event
        # without their URLs, serialised once here too.
        message["text_no_images"] = events.serialise(event.type, event.cursor, hidden)
    conversation_id = socket_fields.pop(UNREAD_OF, None)
    if conversation_id is not None:
        cache = unread_cache if unread_cache is not None else {}
        if conversation_id not in cache:
            cache[conversation_id] = unread.conversation_unread(conversation_id)
        message["unread"] = cache[conversation_id]
    return {**socket_fields, **message}


def _send(outgoing: list[tuple[Iterable[str], dict[str, Any]]]) -> None:
    """Send each message to each of its groups, in order."""
    layer = get_channel_layer()
    if layer is None or not outgoing:
        return

    async def send_all():
        for groups, message in outgoing:
            for group in groups:
                await layer.group_send(group, message)

    async def send_all_twice_if_need_be():
        try:
            await send_all()
        except Exception:
            # After Redis restarted, a process that stayed idle holds a dead
            # connection, and its first publish fails on it (an event nobody
            # would get); the second attempt opens a new one. Sockets drop a
            # message that reaches them twice (same cursor).
            await send_all()

    async def send_within_timeout():
        await asyncio.wait_for(send_all_twice_if_need_be(), PUBLISH_TIMEOUT)

    try:
        if isinstance(layer, InMemoryChannelLayer):
            # Bound to the server's own loop: publish there.
            async_to_sync(send_within_timeout)()
        else:
            _publishing_loop.run(send_within_timeout, PUBLISH_TIMEOUT + 1)
    except Exception:  # the doorbell failed; the events are safe in the database
        log.exception("could not publish %s message(s)", len(outgoing))
        if not isinstance(layer, InMemoryChannelLayer):
            _missed.add(outgoing)
            _publishing_loop.start(_tell_who_missed)


class _Missed:
    """Which groups missed events this process failed to publish, each with
    the earliest such cursor.

    The sockets in those groups may be on any process, where Redis may have
    worked all along (a network fault of this host alone, the worker's say):
    nothing there would show them the gap. So this process asks them, once
    its layer works again, to catch up from the database (``layer.catch_up``).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: dict[str, int] = {}

    def add(self, outgoing: list[tuple[Iterable[str], dict[str, Any]]]) -> None:
        self.merge(
            (group, message["cursor"])
            for groups, message in outgoing
            # A signal carries no cursor: no state, nothing to catch up.
            if message.get("cursor") is not None
            for group in groups
        )

    def take(self) -> dict[str, int]:
        with self.lock:
            taken, self.since = self.since, {}
        return taken

    def put_back(self, taken: dict[str, int]) -> None:
        self.merge(taken.items())

    def merge(self, missed: Iterable[tuple[str, int]]) -> None:
        with self.lock:
            for group, cursor in missed:
                self.since[group] = min(self.since.get(group, cursor), cursor)


_missed = _Missed()


async def _tell_who_missed() -> None:
    """Until it gets through: ask each socket of the groups that missed this
    process's events to replay them (from just before the first)."""
    layer = get_channel_layer()
    while True:
        await asyncio.sleep(CATCH_UP_RETRY)
        taken = _missed.take()
        if not taken:
            return
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                for group, cursor in taken.items():
                    await layer.group_send(
                        group, {"type": "layer.catch_up", "since": cursor - 1}
                    )
        except Exception:
            _missed.put_back(taken)
        else:
            log.warning("asked %d group(s) to catch up on lost events", len(taken))


class _PublishingLoop:
    """An event loop of its own, in a thread, through which this process
    publishes to the channel layer.

    From a request's thread, ``async_to_sync`` would run the publish on the
    server's main event loop, where it waits behind all the socket work queued
    there: under load tens of milliseconds to seconds, all the while the flush
    holds its organisation's lock, so every other webhook of the organisation
    waits too (docs/performance.md). On a loop of its own the channel layer
    keeps a Redis connection of its own and a publish costs one round trip;
    flushes still publish one at a time, in order, under the lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.background: dict[Callable, Any] = {}

    def ready(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self.loop.run_forever,
                    name="channel-layer-publisher",
                    daemon=True,
                ).start()
            return self.loop

    def run(self, make_coroutine: Callable[[], Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(make_coroutine(), self.ready())
        try:
            return future.result(timeout)
        finally:
            future.cancel()

    def start(self, make_coroutine: Callable[[], Any]) -> None:
        """Run a coroutine on the loop without waiting for it; once at a time."""
        loop = self.ready()
        with self.lock:
            running = self.background.get(make_coroutine)
            if running is None or running.done():
                self.background[make_coroutine] = asyncio.run_coroutine_threadsafe(
                    make_coroutine(), loop
                )


_publishing_loop = _PublishingLoop()


def publish(groups: Iterable[str], message: dict[str, Any]) -> None:
    """Send one message to each group now, outside any ordering.

    For messages that carry no state (a socket is told to look something up
    again); anything that must arrive in order goes through ``signal``.
    """
    _send([(list(groups), message)])
