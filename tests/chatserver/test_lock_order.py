"""A lead's text and an agent's reply to that lead, at the same moment, both
go through: the number's lock is taken before any row of its thread or lead,
on both paths (``chatserver.actions.locks``).

The reply used to lock its thread and lead, then the number; the text locks
the number, then updates the thread and lead. Met halfway, each waited for
the other until PostgreSQL broke the deadlock a second later by failing one:
the agent saw a server error, or the worker applied its batch again (seen
under the steady load of ``make bench``)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.actions import governing, inbound
from chatserver.models import Message
from tests.conftest import require_or_skip


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_leads_text_and_an_agents_reply_at_once_both_go_through(
    conversation, alice, sender, monkeypatch
):
    if connection.vendor != "postgresql":
        require_or_skip("needs PostgreSQL (set DATABASE_URL) for its locks")
    number = conversation.contact_number.number
    reply_holds_rows = threading.Event()
    text_holds_number = threading.Event()

    # The reply pauses where it takes the governor's lock on the number,
    # until the text holds that lock (or 3 s have passed).
    real_lock = governing.lock_number

    def lock_once_the_text_holds_it(organisation_id, locked_number):
        reply_holds_rows.set()
        text_holds_number.wait(3)
        real_lock(organisation_id, locked_number)

    monkeypatch.setattr(governing, "lock_number", lock_once_the_text_holds_it)
    # The text, holding the number's lock, is about to update the thread.
    real_touch = inbound.touch

    def touch_after_saying_so(*args):
        text_holds_number.set()
        real_touch(*args)

    monkeypatch.setattr(inbound, "touch", touch_after_saying_so)

    errors = []

    def reply():
        try:
            actions.send_message(alice, conversation, "On my way", uuid.uuid4())
        except Exception as error:  # noqa: BLE001 (the test reports it)
            errors.append(error)
        finally:
            reply_holds_rows.set()
            connections.close_all()

    def text():
        try:
            reply_holds_rows.wait(3)
            actions.receive_inbound(
                InboundMessage(
                    carrier="simulator",
                    carrier_message_id=f"SM{uuid.uuid4().hex}",
                    from_number=number,
                    to_number=sender.number,
                    body="Are you coming?",
                )
            )
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            text_holds_number.set()
            connections.close_all()

    threads = [threading.Thread(target=reply), threading.Thread(target=text)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert Message.objects.filter(body__endswith="On my way").exists()
    assert Message.objects.filter(body="Are you coming?").exists()
