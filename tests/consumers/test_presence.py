"""Presence: "Bob is typing…" / "Bob is viewing" on a conversation, live, for
those who may see its lead and nobody else; nothing written to the database;
throttled; gone when the socket goes."""

from __future__ import annotations

import pytest

from chatserver import actions
from consumers import presence
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    connect,
    db,
)
from tests.security.webhook_fuzz_support import row_counts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crew(make_agent, text_in):
    """Alice sees every lead; Bob has the lead; Carol sees only her own."""
    alice = make_agent("alice", access="all", first_name="Alice")
    bob = make_agent("bob", access="mine", first_name="Bob")
    carol = make_agent("carol", access="mine", first_name="Carol")
    conversation = text_in("We have a leak").conversation
    actions.assign_lead(conversation.lead, bob, actor=alice)
    return alice, bob, carol, conversation


async def test_a_colleague_who_may_see_the_lead_learns_who_is_on_it(crew, layer):
    alice, bob, carol, conversation = crew
    before = await db(row_counts)()
    on_alice, on_bob = await connect(alice), await connect(bob)
    on_carol = await connect(carol)
    await on_bob.send(type="presence", conversation=conversation.id, state="typing")
    seen = await on_alice.until("presence")
    assert (seen["conversation"], seen["lead"]) == (conversation.id, conversation.lead_id)
    assert (seen["agent"], seen["name"], seen["state"]) == (bob.id, "Bob", "typing")
    assert seen["ttl"] == presence.TTL["typing"]
    # Carol may not see the lead: she learns nothing. Bob's own socket gets
    # nothing back either.
    await on_carol.quiet(0.5)
    await on_bob.quiet()

    await on_alice.send(type="presence", conversation=conversation.id, state="viewing")
    seen = await on_bob.until("presence")
    assert (seen["name"], seen["state"]) == ("Alice", "viewing")

    # The socket goes: so does its agent, at once.
    await on_bob.close()
    gone = await on_alice.until("presence", agent=bob.id)
    assert gone["state"] == "gone" and gone["conversation"] == conversation.id
    await on_carol.quiet()
    await on_alice.close()
    await on_carol.close()
    assert await db(row_counts)() == before  # nothing stored, not even an event


async def test_typing_reported_at_every_keystroke_is_relayed_once(crew):
    alice, bob, _, conversation = crew
    on_alice, on_bob = await connect(alice), await connect(bob)
    for _ in range(30):
        await on_bob.send(type="presence", conversation=conversation.id, state="typing")
    await on_alice.until("presence")
    assert [f for f in await on_alice.drain(0.5) if f["type"] == "presence"] == []
    # A change of state goes at once; a question ("who is here?") too.
    await on_bob.send(type="presence", conversation=conversation.id, state="viewing")
    assert (await on_alice.until("presence"))["state"] == "viewing"
    await on_bob.send(
        type="presence", conversation=conversation.id, state="viewing", ask=True
    )
    assert (await on_alice.until("presence"))["ask"] is True
    await on_alice.close()
    await on_bob.close()


async def test_presence_on_a_hidden_conversation_is_not_found_and_goes_nowhere(crew):
    alice, bob, carol, conversation = crew
    on_alice, on_carol = await connect(alice), await connect(carol)
    await on_carol.send(
        type="presence", conversation=conversation.id, state="viewing", client_id="p1"
    )
    error = await on_carol.until("error", client_id="p1")
    assert error["code"] == "not_found"
    await on_alice.quiet(0.5)
    await on_carol.send(
        type="presence", conversation=conversation.id, state="dancing", client_id="p2"
    )
    assert (await on_carol.until("error", client_id="p2"))["code"] == "invalid"
    await on_alice.close()
    await on_carol.close()


async def test_presence_follows_the_lead_to_its_new_assignee(crew):
    """Whom a report reaches is read when it is made: the lead's audience now."""
    alice, bob, carol, conversation = crew
    on_bob, on_carol = await connect(bob), await connect(carol)
    await db(actions.assign_lead)(conversation.lead, carol, actor=alice)
    on_alice = await connect(alice)
    await on_alice.send(type="presence", conversation=conversation.id, state="viewing")
    assert (await on_carol.until("presence"))["name"] == "Alice"
    assert [f for f in await on_bob.drain(0.5) if f["type"] == "presence"] == []
    for console in (on_alice, on_bob, on_carol):
        await console.close()
