"""The console's state (static/console/js/state.js) applies events as the
protocol says: each message once, statuses only forward, a stale state plus
its events equal to a fresh one; and the socket's reconnect delays back off
with jitter. Runs the module in Node (console_state_runner.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import require_or_skip

RUNNER = Path(__file__).resolve().parent / "console_state_runner.mjs"
ME = 7


def run(data: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        require_or_skip("node is not on PATH: the console's modules are not tested")
    result = subprocess.run(
        [node, str(RUNNER)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def message(id, body, direction="in", status="received", conversation=12, **kw):
    return {
        "id": id,
        "conversation": conversation,
        "lead": 9,
        "direction": direction,
        "kind": "text",
        "body": body,
        "status": status,
        "author": ME if direction == "out" else None,
        "author_name": "Alice" if direction == "out" else "",
        "created_at": f"2025-03-04T17:{id % 60:02d}:00+00:00",
        "error_code": "",
        "error_reason": "",
        "client_id": None,
        **kw,
    }


def hello(messages, unread=None, cursor=100, assignee=None):
    last = messages[-1] if messages else None
    return {
        "type": "hello",
        "cursor": cursor,
        "agent": {"id": ME, "name": "Alice", "access": "all", "external": False},
        "organisation": {"id": 1, "name": "Acme", "message_limit": "standard"},
        "unread": unread or {"total": 0, "conversations": {}},
        "buckets": {"unassigned": 1, "mine": 0, "assigned": 0, "closed": 0},
        "conversations": [
            {
                "id": 12,
                "lead": 9,
                "lead_name": "Dana Whitfield",
                "lead_status": "open",
                "assignee": assignee,
                "status": "open",
                "contact_number": "+14155550123",
                "contact_name": "Dana Whitfield",
                "last_message_at": last["created_at"] if last else None,
                "last_message": last,
                "consent": "authorized",
                "consent_notice": None,
            }
        ],
    }


def created(cursor, msg):
    return {
        "type": "message.created",
        "cursor": cursor,
        "lead": 9,
        "conversation": msg["conversation"],
        "message": msg,
    }


def status(cursor, id, value, reason=""):
    return {
        "type": "message.status",
        "cursor": cursor,
        "lead": 9,
        "conversation": 12,
        "message": id,
        "status": value,
        "error_code": "30003" if reason else "",
        "error_reason": reason,
    }


def test_a_message_arriving_live_and_again_on_resume_is_shown_once():
    first = message(1, "Hi")
    second = message(2, "Is Friday ok?")
    frames = [created(101, second), created(101, second)]  # live, then replayed
    state = run({"hello": hello([first]), "open": [12], "frames": frames})
    assert [m["id"] for m in state["histories"]["12"]] == [2]  # page 1 not loaded here
    assert state["announced"] == [2]  # announced (and shaken for) once
    assert state["conversations"]["12"]["last_message"] == 2


def test_a_status_never_moves_back_whatever_order_events_come_in():
    sent = message(3, "See you Friday", direction="out", status="queued")
    frames = [
        created(101, sent),
        status(102, 3, "delivered"),
        status(103, 3, "sent"),  # a late callback
        created(101, sent),  # the creation replayed with its first status
    ]
    state = run({"hello": hello([]), "open": [12], "frames": frames})
    assert state["histories"]["12"] == [
        {"id": 3, "status": "delivered", "body": "See you Friday", "client_id": None}
    ]
    assert state["conversations"]["12"]["last_status"] == "delivered"


def test_a_stale_state_plus_its_events_equals_the_fresh_state():
    old = [message(1, "Hi")]
    reply = message(2, "Hello Dana", direction="out", status="queued")
    inbound = message(3, "Thanks!")
    frames = [
        created(101, reply),
        {
            "type": "lead.updated",
            "cursor": 102,
            "lead": {
                "id": 9,
                "name": "Dana Whitfield",
                "status": "open",
                "assignee": ME,
            },
            "audience": {"access": ["all", "assigned"], "agents": []},
            "change": "assigned",
        },
        status(103, 2, "delivered"),
        # A lead's text carries the agent's counts after it (one frame).
        {**created(104, inbound), "unread": {"total": 1, "conversation": 1}},
    ]
    stale = run({"hello": hello(old), "frames": frames})
    reply_now = {**reply, "status": "delivered"}
    fresh = run(
        {
            "hello": hello(
                [*old, reply_now, inbound],
                unread={"total": 1, "conversations": {"12": 1}},
                cursor=104,
                assignee=ME,
            )
        }
    )
    for key in ("conversations", "leads", "unread"):
        assert stale[key] == fresh[key], key
    assert stale["leads"]["9"]["bucket"] == "mine"


def test_a_texts_unread_counts_change_its_conversation_and_leave_the_others():
    earlier = message(1, "Hi")
    state = run(
        {
            "hello": hello(
                [earlier], unread={"total": 2, "conversations": {"12": 1, "40": 1}}
            ),
            "frames": [
                {
                    **created(101, message(2, "Still there?")),
                    "unread": {"total": 3, "conversation": 2},
                },
            ],
        }
    )
    assert state["unread"] == {"total": 3, "conversations": {"12": 2, "40": 1}}
    # A count back to zero (the agent read it in another tab meanwhile) drops
    # the conversation from the counts.
    state = run(
        {
            "hello": hello([earlier], unread={"total": 1, "conversations": {"12": 1}}),
            "frames": [
                {
                    **created(101, message(2, "Still there?")),
                    "unread": {"total": 0, "conversation": 0},
                },
            ],
        }
    )
    assert state["unread"] == {"total": 0, "conversations": {}}


def test_a_pending_send_becomes_its_message_and_a_lead_that_leaves_view_is_hidden():
    pending = message(
        0, "On my way", direction="out", status="pending", client_id="c-1"
    )
    stored = message(5, "On my way", direction="out", status="queued", client_id="c-1")
    frames = [
        created(101, stored),
        {
            "type": "lead.updated",
            "cursor": 102,
            "lead": {
                "id": 9,
                "name": "Dana Whitfield",
                "status": "open",
                "assignee": 8,
            },
            "audience": {"access": ["assigned"], "agents": []},  # not "all": gone
            "change": "assigned",
        },
    ]
    state = run(
        {"hello": hello([]), "open": [12], "pending": [pending], "frames": frames}
    )
    assert state["histories"]["12"] == [
        {"id": 5, "status": "queued", "body": "On my way", "client_id": "c-1"}
    ]
    assert state["leads"]["9"]["visible"] is False


def test_reconnect_delays_grow_are_capped_and_jittered():
    delays = run({"backoff": list(range(10))})["delays"]
    lows = [low for low, _ in delays]
    highs = [high for _, high in delays]
    assert lows[0] >= 250 and highs[0] <= 500  # the first retry is quick
    assert all(b >= a for a, b in zip(highs, highs[1:], strict=False))  # it grows
    assert highs[-1] <= 30_000  # and stops growing at 30 s
    assert all(high > low for low, high in delays)  # spread, so tabs don't stampede


def test_after_a_restart_or_a_busy_server_consoles_come_back_spread_over_seconds():
    """Close codes 1012 and 1013: the consoles of a whole process reconnect
    over 0.5 to 5 s, not within the usual first half second."""
    delays = run({"backoff": list(range(10)), "spread": True})["delays"]
    low, high = delays[0]
    assert low >= 500 and high >= 4_900 and high <= 5_000
    plain = run({"backoff": list(range(10))})["delays"]
    assert all(high >= usual_high for (_, high), (_, usual_high) in zip(delays, plain))
