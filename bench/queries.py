"""How many SQL queries each webhook costs, and which.

Run in the servers' environment on a seeded harness database (``bench.run``
does it: ``--only queries``); prints one JSON line. Each request goes through
Django's whole stack (middleware, the webhook view, the actions) with a
signature made as Twilio makes it; the channel layer is swapped for the
in-memory one so no live socket is disturbed.
"""

from __future__ import annotations

import json
import os
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.twilio import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_BASE_URL  # noqa: E402
from chatserver import actions  # noqa: E402
from chatserver.models import Agent, Message  # noqa: E402
from chatserver.queries import console, unread  # noqa: E402

NEW_NUMBER = "+16175550142"  # fictional, not among the harness's lead numbers


def measure(label: str, run) -> dict:
    """Queries and time of one call, on a fresh connection as each request gets."""
    connection.close()
    started = time.perf_counter()
    connection.ensure_connection()
    connect_ms = (time.perf_counter() - started) * 1000
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        answer = run()
        total_ms = (time.perf_counter() - started) * 1000
    return {
        "case": label,
        "answer": answer,
        "queries": len(captured.captured_queries),
        "ms": round(total_ms, 2),
        "connect_ms": round(connect_ms, 2),
        "sql": [q["sql"][:200] for q in captured.captured_queries],
    }


def signed_post(client: Client, path: str, params: dict) -> int:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        PUBLIC_BASE_URL + path, params
    )
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code


def inbound(from_number: str, body: str) -> dict:
    sid = "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_number,
        "To": "+14155550100",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def main() -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    client = Client()
    path = "/carriers/twilio/inbound"
    # Applied at once first, whatever the servers' environment says.
    settings.WEBHOOKS_QUEUED = False
    cases = [
        measure(
            "inbound text from a new number (new lead)",
            lambda: signed_post(client, path, inbound(NEW_NUMBER, "Hi, roof quote?")),
        ),
        measure(
            "inbound text from a known lead",
            lambda: signed_post(client, path, inbound(NEW_NUMBER, "Still there?")),
        ),
    ]
    # Queued (the Procfile's web): the web process only stores the webhook;
    # the harness's worker then applies it as "a known lead" above does.
    settings.WEBHOOKS_QUEUED = True
    cases.append(
        measure(
            "queued: inbound text, the web process's part",
            lambda: signed_post(client, path, inbound(NEW_NUMBER, "Queued?")),
        )
    )
    settings.WEBHOOKS_QUEUED = False
    twice = inbound(NEW_NUMBER, "Twice?")
    signed_post(client, path, twice)
    cases.append(
        measure(
            "the same webhook again (a duplicate)",
            lambda: signed_post(client, path, twice),
        )
    )
    agent = Agent.objects.select_related("organisation", "user").order_by("id").first()
    conversation = (
        Message.objects.filter(direction="in", body="Hi, roof quote?")
        .get()
        .conversation
    )
    sent = actions.send_message(agent, conversation, "Happy to help", uuid.uuid4())
    status_path = f"/carriers/twilio/status?ref={sent.id}"
    # The harness's outbox worker sends it through the mocked Twilio; the
    # callback then names the id Twilio gave, as the real one does.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sent.refresh_from_db()
        if sent.carrier_message_id:
            break
        time.sleep(0.1)
    sid = sent.carrier_message_id or "SM" + uuid.uuid4().hex
    cases.append(
        measure(
            "status callback (delivered)",
            lambda: signed_post(
                client,
                status_path,
                {
                    "MessageSid": sid,
                    "MessageStatus": "delivered",
                    "AccountSid": ACCOUNT_SID,
                    "From": "+14155550100",
                    "To": NEW_NUMBER,
                    "ApiVersion": "2010-04-01",
                },
            ),
        )
    )
    cases.append(
        measure(
            "hello (a console connecting)", lambda: len(json.dumps(console.hello(agent)))
        )
    )
    cases.append(
        measure(
            "unread counts (refreshed after lead.updated)",
            lambda: unread.unread_counts(agent)["total"],
        )
    )
    print(json.dumps({"cases": cases}))


if __name__ == "__main__":
    main()
