"""Consent through the JSON API: the same actions and refusals as the socket."""

import datetime
import json

import pytest
import time_machine

from chatserver.models import Consent, Message
from tests.chatserver.consent_support import inbound, manual_lead, outbound, state
from tests.conftest import fictional_number

pytestmark = pytest.mark.django_db

NIGHT = datetime.datetime(2025, 1, 15, 5, 30, tzinfo=datetime.UTC)  # 21:30 in LA


@pytest.fixture
def api(client, alice):
    client.force_login(alice.user)

    def post(path, data=None):
        response = client.post(
            path, json.dumps(data or {}), content_type="application/json"
        )
        return response.status_code, response.json()

    return post


def test_authorization_request_through_the_api(api, org, sender):
    conversation = manual_lead(org, sender, fictional_number())
    path = f"/api/conversations/{conversation.id}/authorization-request"
    status, body = api(path)
    assert status == 201
    assert body["message"]["kind"] == "authorization_request"
    assert state(org, conversation.contact_number.number) == Consent.State.PENDING
    status, body = api(path)
    assert status == 409 and body["error"]["code"] == "already_pending"
    status, body = api(path, {"schedule": "tomorrow"})
    assert status == 400
    status, body = api("/api/conversations/999999/authorization-request")
    assert status == 404


def test_quiet_hours_through_the_api(api, settings, org, sender):
    settings.ENFORCE_QUIET_HOURS = True
    with time_machine.travel(NIGHT - datetime.timedelta(hours=10), tick=False):
        conversation = inbound(sender, "+14155550123", "Quote?").conversation
    path = f"/api/conversations/{conversation.id}/messages"
    with time_machine.travel(NIGHT, tick=False):
        status, body = api(path, {"body": "Here it is"})
        assert status == 409 and body["error"]["code"] == "quiet_hours"
        assert body["error"]["details"]["next_allowed"] == "2025-01-15T16:00:00+00:00"
        assert outbound("+14155550123") == []
        status, body = api(path, {"body": "Here it is", "schedule": True})
    assert status == 201
    assert body["message"]["status"] == "scheduled"
    assert body["message"]["scheduled_for"] == "2025-01-15T16:00:00+00:00"


def test_confirming_an_opt_out_through_the_api(api, org, sender):
    number = fictional_number()
    inbound(sender, number, "Hi")
    message = inbound(sender, number, "take me off your list")
    status, body = api(f"/api/messages/{message.id}/confirm-optout")
    assert (status, body) == (200, {"consent": "revoked", "changed": True})
    # Resolved now: a second confirmation is refused (issue 16), sends nothing.
    status, body = api(f"/api/messages/{message.id}/confirm-optout")
    assert (status, body["error"]["code"]) == (409, "stale")
    assert len(outbound(number, kind=Message.Kind.AUTO_REPLY)) == 1
    status, body = api("/api/messages/999999/confirm-optout")
    assert status == 404
