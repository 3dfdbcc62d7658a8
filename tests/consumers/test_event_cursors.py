"""Cursors follow commit order, so a console resuming from the last cursor it
saw misses nothing, even when transactions commit out of order."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, transaction

from chatserver import events
from chatserver.models import Event
from chatserver.publish import emit
from chatserver.queries import replay
from tests.conftest import require_or_skip
from tests.consumers.console_support import connect, db, lead_number

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


async def test_a_transaction_that_commits_last_gets_the_later_cursor(alice, text_in):
    if connection.vendor != "postgresql":
        require_or_skip("needs PostgreSQL: SQLite runs one writer at a time")
    message = await db(text_in)("Hello", from_number=lead_number())
    lead_id = message.conversation.lead_id
    group = events.access_group(alice.organisation_id, "all")
    console = await connect(alice)
    first_stored = threading.Event()
    second_committed = threading.Event()

    def note(body):
        return emit(
            alice.organisation_id,
            events.NoteCreated(
                type=events.NOTE_CREATED, lead=lead_id, note={"body": body}
            ),
            [group],
            lead_id=lead_id,
        )

    def slow_transaction():
        """Stores its event first, commits last (a slow webhook, say)."""
        try:
            with transaction.atomic():
                event = note("stored first, committed last")
                first_stored.set()
                assert second_committed.wait(10)
            return event.id
        finally:
            connection.close()

    def fast_transaction():
        try:
            assert first_stored.wait(10)
            with transaction.atomic():
                event = note("stored second, committed first")
            second_committed.set()
            return event.id
        finally:
            connection.close()

    slow_id, fast_id = await asyncio.gather(
        sync_to_async(slow_transaction, thread_sensitive=False)(),
        sync_to_async(fast_transaction, thread_sensitive=False)(),
    )

    assert slow_id < fast_id  # the row ids follow insertion...
    slow, fast = [await db(Event.objects.get)(pk=pk) for pk in (slow_id, fast_id)]
    assert fast.cursor + 1 == slow.cursor  # ...the cursors, commits
    # Live, the socket got them in commit order...
    notes = [(await console.until("note.created")) for _ in range(2)]
    assert [n["note"]["body"] for n in notes] == [
        "stored second, committed first",
        "stored first, committed last",
    ]
    assert [n["cursor"] for n in notes] == [fast.cursor, slow.cursor]
    # ...and a console that saw only the first and resumes from it gets the other.
    gap = await db(replay.missed_events)(alice, fast.cursor)
    assert [e.id for e in gap.events] == [slow_id]
    await console.close()
