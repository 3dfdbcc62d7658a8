"""The statements every text runs are prepared on PostgreSQL
(``chatserver.models.prepared.statement_cursor``): parsed and planned once
per connection, where each text had PostgreSQL plan the joins of its sender
number and lead anew (half a millisecond each, docs/performance.md)."""

import pytest
from django.db import connection

from chatserver.models import Message
from tests.conftest import require_or_skip


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        require_or_skip("prepared statements are PostgreSQL's (set DATABASE_URL)")


def prepared() -> dict[str, int]:
    """This connection's prepared statements, and how often each was run."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
        )
        return dict(cursor.fetchall())


def test_a_leads_texts_run_the_statements_prepared_for_the_first(db, text_in):
    number = text_in("Hi, roof quote?").conversation.contact_number.number
    text_in("Still there?", from_number=number)
    before = prepared()
    for n in range(3):
        text_in(f"Hello again {n}", from_number=number)
    after = prepared()

    assert Message.objects.filter(body__startswith="Hello again").count() == 3
    assert set(after) == set(before)  # nothing prepared anew
    sender = next(sql for sql in after if 'FROM "chatserver_sendernumber"' in sql)
    lead = next(sql for sql in after if 'FROM "chatserver_contactnumber"' in sql)
    assert after[sender] == before[sender] + 3
    assert after[lead] == before[lead] + 3


def test_with_prepared_statements_off_nothing_is_prepared(db, text_in, settings):
    """For a pooler that cannot keep them (``DB_PREPARED_STATEMENTS=false``)."""
    settings.DB_PREPARED_STATEMENTS = False
    before = prepared()
    number = text_in("Hi, roof quote?").conversation.contact_number.number
    text_in("Still there?", from_number=number)
    assert Message.objects.filter(body="Still there?").exists()
    assert prepared() == before
