"""Every event, applied to the state a console had, equals a fresh load
(Zulip's ``verify_action``; issue 16, "What the console shows equals a fresh
load").

For each event type the server emits, an open console (a real socket on the
real consumer) keeps the frames an action caused; the console's own state
module (static/console/js/state.js, run in Node) applies them to the hello the
console started from, and what the console would show (unread counts, bucket
counts, the conversations it lists with their last message, consent and
assignee, the agent's rights) must equal what a fresh socket's hello shows.
Each test names the event types it covers; ``test_every_event_type_is_covered``
fails when a new type has none.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from chatserver import actions, events
from chatserver.actions import attachments, followups, scheduled
from chatserver.actions import delivery as sending
from chatserver.models import Attachment, Enrollment, FollowUp, Message, Workflow
from tests.browser.test_console_state import run
from tests.conftest import fictional_number
from tests.consumers.console_support import connect, db

pytestmark = pytest.mark.django_db(transaction=True)

COVERED: set[str] = set()

# What a console shows, as the runner projects it.
SHOWN = ("unread", "buckets", "shown", "agent", "organisation", "outstanding")


def covers(*types: str):
    COVERED.update(types)
    return lambda test: test


async def verify(agents, act, *, settle: float = 0.4) -> dict[str, list[dict]]:
    """Open a console per agent, run ``act`` (in a database thread), and check
    each console's stale state plus the frames it got against a fresh load.
    Returns each agent's frames, for the test's own checks."""
    consoles = [await connect(agent) for agent in agents]
    for console in consoles:
        await console.drain(0.2)
        console.frames.clear()
    await db(act)()
    frames = {}
    for agent, console in zip(agents, consoles, strict=True):
        await console.drain(settle)
        fresh = await connect(agent)
        stale_then = run({"hello": console.hello_now, "frames": console.frames})
        fresh_now = run({"hello": fresh.hello, "frames": []})
        await fresh.close()
        await console.close()
        for part in SHOWN:
            assert stale_then[part] == fresh_now[part], (agent.user.username, part)
        frames[agent.user.username] = console.frames
    return frames


@pytest.fixture(autouse=True)
def _hello_now(monkeypatch):
    """The state each console had just before the action: its hello and
    every frame before the action (drained and applied here)."""
    from tests.consumers import console_support

    class Console(console_support.Console):
        @property
        def hello_now(self):
            return self._hello_now

        async def drain(self, timeout=0.3):
            frames = await super().drain(timeout)
            if not hasattr(self, "_hello_now"):
                state = self.hello
                for frame in frames:
                    if frame["type"] in ("reload", "hello"):
                        state = frame
                self._hello_now = state
            return frames

    monkeypatch.setattr(console_support, "Console", Console)


@pytest.fixture
def team(org, sender, make_agent):
    """Alice sees every lead; Bob his own; Una unassigned ones and her own."""
    return (
        make_agent("alice", access="all"),
        make_agent("bob", access="mine"),
        make_agent("una", access="unassigned"),
    )


@covers(events.MESSAGE_CREATED, events.LEAD_CREATED)
async def test_a_text_from_a_new_number(team, text_in):
    await verify(team, lambda: text_in("Hi, is this the roofer?"))


@covers(events.MESSAGE_CREATED, events.UNREAD_CHANGED)
async def test_a_text_on_a_known_lead_and_reading_it(team, text_in):
    alice = team[0]
    first = await db(text_in)("Hello", from_number="+13035550161")
    await verify(team, lambda: text_in("Anyone?", from_number="+13035550161"))

    def read():
        actions.mark_read(alice, first.conversation, Message.objects.latest("id").id)

    await verify(team, read)


@covers(events.MESSAGE_STATUS, events.MESSAGE_CREATED, events.LEAD_UPDATED)
async def test_a_reply_and_its_statuses(team, text_in):
    alice = team[0]
    inbound = await db(text_in)("Quote please", from_number="+13035550162")

    def reply():
        return actions.send_message(alice, inbound.conversation, "Sure!")

    await verify(team, reply)
    message = await db(Message.objects.get)(direction="out")

    def sent():
        from carriers.base import SendResult

        sending.record_sent(sending.claim(message.id), SendResult("SM-x"))

    await verify(team, sent)


@covers(events.MESSAGE_UPDATED)
async def test_an_image_accepted(team, text_in, org):
    from carriers.base import InboundMessage, MediaItem

    org.mms_enabled = True
    await db(org.save)()
    sender = team[0].organisation.sender_numbers.first

    def mms():
        actions.receive_inbound(
            InboundMessage(
                carrier="simulator",
                carrier_message_id=uuid.uuid4().hex,
                from_number="+13035550163",
                to_number=sender().number,
                body="Photo",
                media=(MediaItem("simulator://media/" + "a" * 32, "image/png"),),
            )
        )

    await db(mms)()

    def accept():
        from tests.mms.mms_support import png

        attachment = Attachment.objects.get()
        attachments.accept(attachment, png(), "image/png")

    await verify(team, accept)


@covers(events.LEAD_UPDATED, events.BUCKETS_CHANGED)
async def test_assigning_reassigning_and_unassigning(team, text_in):
    alice, bob, una = team
    inbound = await db(text_in)("Hello", from_number="+13035550164")
    lead = inbound.conversation.lead
    await verify(team, lambda: actions.assign_lead(lead, bob, actor=alice))
    await verify(team, lambda: actions.assign_lead(lead, una, actor=alice))
    await verify(team, lambda: actions.assign_lead(lead, None, actor=alice))


@covers(events.LEAD_UPDATED, events.BUCKETS_CHANGED)
async def test_closing_and_reopening_a_lead_keeps_the_bucket_counts(team, text_in):
    """Today's bug: after closing and reopening a lead, Unassigned showed 0
    in two consoles while the lead was still unassigned, until a reload."""
    alice = team[0]
    inbound = await db(text_in)("Hello", from_number="+13035550165")
    lead = inbound.conversation.lead
    await verify(team, lambda: actions.close_lead(lead, alice))
    frames = await verify(team, lambda: actions.reopen_lead(lead, alice))
    buckets = [f for f in frames["alice"] if f["type"] == "buckets.changed"]
    assert buckets and buckets[-1]["buckets"]["unassigned"] == 1


@covers(events.LEAD_UPDATED, events.MESSAGE_CREATED, events.CONVERSATION_UPDATED)
async def test_naming_a_contact_and_a_text_from_their_second_number(team, text_in):
    """Issue 18: a contact that texted in is named (the lead takes the name),
    gets a second number, which texts in: every console lists the second
    conversation, with which number it is, as a fresh load would."""
    alice = team[0]
    inbound = await db(text_in)("Hi", from_number="+15035550161")
    lead = inbound.conversation.lead
    contact = await db(lambda: lead.contacts.get())()

    def name_them():
        actions.update_contact(alice, lead, contact, first_name="Jordan")

    await verify(team, name_them)
    await verify(
        team,
        lambda: actions.add_contact_number(alice, lead, contact, "503 555 0162"),
    )
    await verify(team, lambda: text_in("Work cell here", from_number="+15035550162"))
    await verify(team, lambda: actions.close_lead(lead, alice))


@covers(events.CONVERSATION_UPDATED)
async def test_closing_and_reopening_a_conversation(team, text_in):
    alice = team[0]
    inbound = await db(text_in)("Hello", from_number="+13035550166")
    conversation = inbound.conversation
    await verify(
        team, lambda: actions.set_conversation_status(conversation, "closed", alice)
    )
    await verify(
        team, lambda: actions.set_conversation_status(conversation, "open", alice)
    )


@covers(events.CONSENT_CHANGED, events.MESSAGE_UPDATED)
async def test_an_opt_out_and_its_flag(team, text_in):
    alice = team[0]
    number = fictional_number()
    await db(text_in)("Hello", from_number=number)
    flagged = await db(text_in)("please stop texting me", from_number=number)
    await verify(team, lambda: actions.confirm_optout(alice, flagged))
    await verify(team, lambda: text_in("START", from_number=number))


@covers(events.NOTE_CREATED)
async def test_a_note(team, text_in):
    alice = team[0]
    inbound = await db(text_in)("Hello", from_number="+13035550167")
    await verify(team, lambda: actions.add_note(alice, inbound.conversation.lead, "Hi"))


@covers(events.AGENT_UPDATED)
async def test_rights_changed(team, text_in):
    alice, bob, una = team
    await db(text_in)("Hello", from_number="+13035550168")
    await verify(team, lambda: actions.set_agent(bob, access="all"))
    await verify(team, lambda: actions.set_agent(una, sms="deny", images=False))


@covers(events.ORGANISATION_UPDATED)
async def test_plan_changed(team, org):
    await verify(team, lambda: actions.set_organisation_limit(org, "advanced"))


@covers(events.MESSAGE_CREATED, events.MESSAGE_UPDATED, events.MESSAGE_STATUS)
async def test_a_scheduled_text_edited_cancelled_and_cancelled_by_a_reply(
    team, text_in
):
    """Issue 20: a text scheduled for later, its words and time changed, then
    cancelled; another cancelled by the lead's reply; a third released at its
    time. Each console shows what a fresh load shows (words, time, status,
    why)."""
    alice = team[0]
    number = "+13035550169"
    inbound = await db(text_in)("Quote?", from_number=number)
    conversation = inbound.conversation
    at = timezone.now() + datetime.timedelta(days=1)

    def later(body, when=at):
        return actions.send_message(alice, conversation, body, send_at=when)

    await verify(team, lambda: later("Tomorrow?"))
    first = await db(Message.objects.get)(direction="out")
    await verify(
        team,
        lambda: actions.reschedule_message(
            alice,
            first,
            body="Tomorrow at 10?",
            send_at=at + datetime.timedelta(hours=1),
        ),
    )
    await verify(team, lambda: actions.cancel_scheduled(alice, first))
    await verify(team, lambda: later("Still keen?"))
    await verify(team, lambda: text_in("No thanks", from_number=number))
    await db(lambda: later("Due now", timezone.now()))()
    await verify(team, scheduled.release_scheduled)


@covers(events.FOLLOWUP_CREATED, events.FOLLOWUP_UPDATED)
async def test_follow_ups_set_moved_snoozed_done_and_deleted(team, text_in):
    """Una sets one on a lead nobody has (hers); assigning the lead to Bob
    moves it to his list; snoozed, done, and another deleted."""
    alice, bob, una = team
    inbound = await db(text_in)("Hello", from_number="+14155550169")
    lead = inbound.conversation.lead
    soon = timezone.now() + datetime.timedelta(hours=1)
    await verify(team, lambda: followups.set_followup(una, lead, soon, "Call"))
    followup = await db(FollowUp.objects.get)()
    await verify(team, lambda: actions.assign_lead(lead, bob, actor=alice))
    later = soon + datetime.timedelta(days=1)
    await verify(team, lambda: followups.snooze(alice, followup, later))
    await verify(team, lambda: followups.mark_done(bob, followup))
    await verify(team, lambda: followups.set_followup(alice, lead, soon, "Text"))
    other = await db(FollowUp.objects.filter(done_at=None).get)()
    await verify(team, lambda: followups.delete(bob, other))


@covers(events.ENROLLMENT_UPDATED, events.FOLLOWUP_CREATED, events.FOLLOWUP_UPDATED)
async def test_a_workflow_reminder_on_a_lead_nobody_has(team, text_in, org):
    """A new lead from the workflow's source: its reminder is on the list
    of all who see the lead while nobody has it, then its assignee's; the
    lead's reply stops the workflow."""
    alice, bob, una = team

    def define():
        workflow = Workflow.objects.create(organisation=org, name="New", source="sms")
        workflow.steps.create(position=0, kind="call", note="Call them")

    await db(define)()
    number = "+14155550170"
    await verify(team, lambda: text_in("Hi, a quote?", from_number=number))
    lead = await db(lambda: Enrollment.objects.get().lead)()
    await verify(team, lambda: actions.assign_lead(lead, alice, actor=alice))
    await verify(team, lambda: actions.assign_lead(lead, None, actor=alice))
    await verify(team, lambda: text_in("Still there?", from_number=number))


def test_every_event_type_is_covered():
    """Runs last in this module: a new event type needs a test above."""
    assert set(events.FRAME_TYPES) <= COVERED, set(events.FRAME_TYPES) - COVERED
