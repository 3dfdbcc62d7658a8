"""The console socket against anything a browser, or anyone, could send.

Every client message is checked against the protocol: whatever arrives
(unknown types, wrong field types, junk, deep nesting, huge frames, floods)
gets an ``error`` reply or a documented close, never a crash and never a
``server_error`` (which would mean an exception escaped a handler); and the
socket keeps working afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chatserver import commands
from chatserver.models import Message
from consumers import frames as console_module
from consumers.console import ConsoleConsumer
from consumers.frames import MAX_FRAME_BYTES
from tests.consumers.console_support import connect, connect_with, db, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

# Every type a client may send, and some it may not.
TYPES = sorted(ConsoleConsumer.handlers) + ["", "hello", "ack", "__class__", "a" * 300]
FIELDS = [
    "type", "client_id", "conversation", "message", "body", "cursor", "lead",
    "agent", "category", "schedule", "number", "first_name", "last_name", "kind",
    "contact", "name", "assignee", "status", "on", "email", "source", "role",
    "allow_duplicate", "send_at", "cancel_on_reply", "due_at", "until", "note",
    "followup", "workflow", "enrollment",
]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def protocol_like(ids: list[int]) -> st.SearchStrategy[dict]:
    """Frames shaped like the protocol's, with fields of any type, and ids of
    real rows (ours, another agent's, another organisation's) among them."""
    values = st.one_of(json_values, st.sampled_from(ids), st.uuids().map(str))
    return st.builds(
        lambda kind, fields: {**fields, "type": kind},
        st.one_of(st.sampled_from(TYPES), json_values),
        st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    )


def frames(ids: list[int]) -> st.SearchStrategy[str]:
    """A frame's text: protocol-like JSON, any JSON, or not JSON at all."""
    return st.one_of(
        protocol_like(ids).map(json.dumps),
        json_values.map(json.dumps),
        st.text(max_size=200),
        st.sampled_from(["", "{", "null", "[]", "1e999999", '{"type": NaN}', "\ud800"]),
    )


@pytest.fixture
def world(org, sender, make_agent, text_in):
    """Alice (all leads), Bob (his own), a lead nobody has, and another
    organisation with a lead of its own: the ids a probe may name."""
    from chatserver import actions

    alice = make_agent("alice", access="all")
    bob = make_agent("bob", access="mine")
    ours = text_in("Hello").conversation
    rival = actions.add_organisation("Rival Roofing")
    theirs_sender = actions.add_number("+12125550100", "simulator", rival)
    theirs = text_in("Hi", to_number=theirs_sender.number).conversation
    ids = [
        ours.id,
        ours.lead_id,
        theirs.id,
        theirs.lead_id,
        alice.id,
        bob.id,
        Message.objects.filter(conversation=theirs).values_list("id", flat=True)[0],
        0,
        -1,
        2**63,
    ]
    return alice, bob, ids


async def survives(console, frames_text: list[str | bytes]) -> list[dict]:
    """Send the frames, then a marker; return every reply before the marker's
    error (which proves the socket is still reading and answering)."""
    for text in frames_text:
        # As the server gets them (the communicator's own send_to refuses an
        # empty frame, which a client may well send).
        key = "bytes" if isinstance(text, bytes) else "text"
        await console.comm.send_input({"type": "websocket.receive", key: text})
    marker = f"alive-{uuid.uuid4()}"
    await console.send(type="probe.alive", client_id=marker)
    replies = []
    while True:
        frame = await console.next(timeout=10)
        if frame.get("type") == "error" and frame.get("client_id") == marker:
            return replies
        replies.append(frame)


def assert_no_crash(replies: list[dict]) -> None:
    for frame in replies:
        assert isinstance(frame, dict) and isinstance(frame.get("type"), str), frame
        if frame["type"] == "error":
            assert frame["code"] != "server_error", frame
            assert isinstance(frame["reason"], str) and frame["reason"], frame


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_frames_get_errors_or_acks_and_never_crash_the_socket(
    world, monkeypatch, data
):
    alice, bob, ids = world
    # The fuzz is about content, not rate: lift the per-socket limits (a test
    # below proves them).
    monkeypatch.setattr(console_module, "FRAME_BURST", 10_000)
    monkeypatch.setattr(console_module, "SEND_BURST", 10_000)
    agent = data.draw(st.sampled_from([alice, bob]), label="agent")
    texts = data.draw(st.lists(frames(ids), min_size=1, max_size=6), label="frames")
    channel_layers.backends.clear()  # a layer of this example's own event loop

    async def scenario():
        console = await connect(agent)
        try:
            assert_no_crash(await survives(console, texts))
        finally:
            await console.close()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        json.dumps({"type": "message.send", "body": "x" * (MAX_FRAME_BYTES + 1)}),
        "\u00e9" * (MAX_FRAME_BYTES // 2 + 1),  # few characters, too many bytes
        b"\x00\xff binary",
        json.dumps({"type": "note.add", "lead": 1, "body": "a\x00b"}),
        json.dumps({"type": "lead.create", "first_name": "\x00", "number": "+1"}),
    ],
    ids=["deep array", "deep object", "huge", "huge in bytes", "binary", "nul", "nul2"],
)
async def test_deep_huge_and_binary_frames_get_an_error_and_the_socket_lives_on(
    world, text
):
    alice, _, _ = world
    console = await connect(alice)
    replies = await survives(console, [text])
    assert [f["type"] for f in replies] == ["error"]
    assert_no_crash(replies)
    await console.close()


def wrong_values(field_type: str) -> list:
    right = {"id": 1, "text": "hi", "flag": True}[field_type]
    odd = [None, True, 1.5, "1", [], {}, [1], -(2**80), "x" * 1000, 2**63]
    return [v for v in odd if type(v) is not type(right)]


# Each client message's fields, and what type each must be.
SHAPES = {
    "message.send": {"conversation": "id", "body": "text", "client_id": "text"},
    "message.resend": {"message": "id", "client_id": "text", "schedule": "flag"},
    "message.reschedule": {
        "message": "id",
        "body": "text",
        "send_at": "text",
        "cancel_on_reply": "flag",
    },
    "message.cancel": {"message": "id"},
    "consent.request": {"conversation": "id", "client_id": "text", "schedule": "flag"},
    "consent.confirm_optout": {"message": "id"},
    "consent.dismiss_optout": {"message": "id"},
    "consent.phone_optout": {"conversation": "id", "note": "text"},
    "conversation.read": {"conversation": "id", "message": "id"},
    "resume": {"cursor": "id"},
    "presence": {"conversation": "id", "state": "text", "ask": "flag"},
    "lead.assign": {"lead": "id", "agent": "id"},
    "lead.close": {"lead": "id"},
    "lead.reopen": {"lead": "id"},
    "lead.share": {"lead": "id", "agent": "id"},
    "lead.unshare": {"lead": "id", "agent": "id"},
    "lead.create": {
        "first_name": "text",
        "number": "text",
        "body": "text",
        "email": "text",
        "source": "text",
        "allow_duplicate": "flag",
    },
    "lead.add_contact": {"lead": "id", "first_name": "text"},
    "lead.add_number": {"lead": "id", "contact": "id", "number": "text"},
    "lead.update_contact": {
        "lead": "id",
        "contact": "id",
        "first_name": "text",
        "role": "text",
        "email": "text",
    },
    "lead.open_conversation": {"lead": "id", "number": "text"},
    "conversation.close": {"conversation": "id"},
    "conversation.reopen": {"conversation": "id"},
    "note.add": {"lead": "id", "body": "text", "client_id": "text"},
    "followup.set": {"lead": "id", "due_at": "text", "note": "text", "client_id": "text"},
    "followup.done": {"followup": "id"},
    "followup.snooze": {"followup": "id", "until": "text"},
    "followup.delete": {"followup": "id"},
    "workflow.attach": {"conversation": "id", "workflow": "id"},
    "workflow.stop": {"enrollment": "id"},
}


def test_every_client_message_type_has_a_shape_probed_below():
    """A new client message type fails here until its fields are probed."""
    assert set(SHAPES) == set(ConsoleConsumer.handlers)
    assert set(commands.LEAD_COMMANDS) <= set(SHAPES)


async def test_every_field_of_every_message_given_the_wrong_type_is_an_error(
    world, monkeypatch
):
    alice, _, ids = world
    monkeypatch.setattr(console_module, "FRAME_BURST", 10_000)
    monkeypatch.setattr(console_module, "SEND_BURST", 10_000)
    console = await connect(alice)
    conversation, lead = ids[0], ids[1]
    good = {"id": lead, "text": "+14155550142", "flag": False}
    sent = []
    for kind, shape in SHAPES.items():
        base = {name: good[t] for name, t in shape.items()}
        if "conversation" in shape:
            base["conversation"] = conversation
        for name, field_type in shape.items():
            for value in wrong_values(field_type):
                sent.append(json.dumps({"type": kind, **base, name: value}))
            missing = {k: v for k, v in base.items() if k != name}
            sent.append(json.dumps({"type": kind, **missing}))
    replies = await survives(console, sent)
    assert_no_crash(replies)
    errors = [f for f in replies if f["type"] == "error"]
    # Every wrong value is refused (a missing optional field may be fine).
    wrong = sum(
        len(wrong_values(t)) for shape in SHAPES.values() for t in shape.values()
    )
    assert len(errors) >= wrong
    assert not {f["code"] for f in errors} & {"server_error", "rate_limited"}
    await console.close()


async def test_sends_are_rate_limited_per_socket_and_others_are_unaffected(
    world, monkeypatch
):
    # The burst is what is counted here: with the refill slowed to nothing, a
    # slow machine taking seconds over the burst cannot earn a send back.
    monkeypatch.setattr(console_module, "SEND_RATE_PER_SECOND", 1e-6)
    alice, _, ids = world
    conversation = ids[0]
    flooding, other = await connect(alice), await connect(alice)
    client_ids = [str(uuid.uuid4()) for _ in range(console_module.SEND_BURST + 5)]
    for client_id in client_ids:
        await flooding.send(
            type="message.send",
            conversation=conversation,
            body="Hi",
            client_id=client_id,
        )
    answers = {}
    while len(answers) < len(client_ids):
        frame = await flooding.next()
        if frame.get("client_id") in client_ids:
            answers[frame["client_id"]] = frame
    limited = [c for c, f in answers.items() if f.get("code") == "rate_limited"]
    assert len(limited) == 5
    assert "too fast" in answers[limited[0]]["reason"]
    stored = await db(Message.objects.filter(direction="out").count)()
    assert stored == console_module.SEND_BURST
    # The other socket's allowance is its own.
    other_id = str(uuid.uuid4())
    await other.send(
        type="message.send", conversation=conversation, body="Hi", client_id=other_id
    )
    assert (await other.until("ack", client_id=other_id))["status"] == "queued"
    await flooding.close()
    await other.close()


async def test_a_flood_of_any_frames_is_cut_off_and_the_socket_recovers(world):
    alice, _, _ = world
    console = await connect(alice)
    burst = console_module.FRAME_BURST
    for _ in range(burst + 20):
        await console.send(type="nothing.here")
    codes = [(await console.until("error"))["code"] for _ in range(burst + 20)]
    # The burst is answered (refilling a little meanwhile); the rest is cut off.
    assert codes[:burst] == ["invalid"] * burst
    assert codes.count("rate_limited") >= 10
    # A second later the allowance has refilled at the documented rate.
    await asyncio.sleep(1.0)
    refill = int(console_module.FRAME_RATE_PER_SECOND * 0.75)
    for _ in range(refill):
        await console.send(type="nothing.here")
    codes = [(await console.until("error"))["code"] for _ in range(refill)]
    assert codes == ["invalid"] * refill
    await console.close()


async def test_a_socket_without_a_session_or_from_another_site_gets_nothing(world):
    from tests.consumers.console_support import communicator

    alice, _, _ = world
    anonymous = communicator(None)
    connected, _ = await anonymous.connect()
    if connected:
        closed = await anonymous.receive_output(5)
        assert closed == {"type": "websocket.close", "code": 4401}
    cookie = await db(session_cookie)(alice)
    for origin in [
        None,
        "https://evil.example.com",
        "null",
        "http://testserver.evil.com",
    ]:
        comm = communicator(cookie, origin=origin)
        connected, _ = await comm.connect()
        assert not connected, origin
    # The same cookie from our own page works.
    console = await connect_with(cookie)
    assert console.hello["type"] == "hello"
    await console.close()


async def test_a_lone_surrogate_in_any_text_gets_an_invalid_error_not_server_error(
    world, monkeypatch
):
    """Issue 16, finding 5: a text holding ``\\ud800`` (JSON's escape) once
    answered ``server_error`` on the socket; the same cleaner as the API's
    refuses it with the reason."""
    alice, _, ids = world
    monkeypatch.setattr(console_module, "FRAME_BURST", 10_000)
    monkeypatch.setattr(console_module, "SEND_BURST", 10_000)
    console = await connect(alice)
    conversation, lead = ids[0], ids[1]
    bad = "ok \\ud800"
    sent = [
        '{"type": "message.send", "conversation": %d, "body": "%s",'
        ' "client_id": "%s"}' % (conversation, bad, uuid.uuid4()),
        '{"type": "note.add", "lead": %d, "body": "%s"}' % (lead, bad),
        '{"type": "lead.create", "first_name": "%s", "number": "+14155550190"}' % bad,
        '{"type": "lead.add_contact", "lead": %d, "first_name": "%s"}' % (lead, bad),
    ]
    replies = await survives(console, sent)
    errors = [f for f in replies if f["type"] == "error"]
    assert len(errors) == len(sent)
    assert {f["code"] for f in errors} == {"invalid"}
    assert all("surrogate" in f["reason"] for f in errors)
    await console.close()


async def test_resumes_that_rebuild_the_whole_state_are_limited_by_their_cost(world):
    """Issue 16, finding 7: ``resume`` with a cursor the server never sent
    rebuilt and sent the whole state each time, within the frame limit (20 a
    second). A rebuilt state now costs a reload from a budget of its own."""
    alice, _, _ = world
    console = await connect(alice)
    for _ in range(10):
        await console.send(type="resume", cursor=10**12)
    frames = [await console.next() for _ in range(10)]
    reloads = [f for f in frames if f["type"] == "reload"]
    refused = [f for f in frames if f["type"] == "error"]
    assert len(reloads) == console_module.RELOAD_BURST
    assert {f["code"] for f in refused} == {"rate_limited"}
    assert len(refused) == 10 - console_module.RELOAD_BURST
    # A resume that replays a small gap stays cheap: it still gets through.
    await console.send(type="resume", cursor=reloads[-1]["cursor"])
    assert (await console.until("resumed"))["replayed"] == 0
    await console.close()
