"""Sending through the real ``twilio`` SDK: to a mock of Twilio's API (Prism,
from Twilio's own OpenAPI description), and to a fake that answers as Twilio
does when it refuses, throttles, fails or never answers."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.actions import delivery as sending
from chatserver.models import Consent, Message
from chatserver.worker import loop as outbox
from tests.twilio_mock import TEST_SID, closed_port_url

TWILIO_NUMBER = "+14155550102"
LEAD_NUMBER = "+12125550142"
SID_PATTERN = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")


@pytest.fixture
def queued(org, alice):
    """Queue alice's reply to a lead who texted our Twilio number first."""
    sender = actions.add_number(TWILIO_NUMBER, "twilio", org)

    def make(body="Thanks, we'll call you tomorrow."):
        inbound = actions.receive_inbound(
            InboundMessage(
                carrier="twilio",
                carrier_message_id="SM" + uuid.uuid4().hex,
                from_number=LEAD_NUMBER,
                to_number=sender.number,
                body="Can you quote a new roof?",
            )
        )
        conversation = (
            inbound.conversation if inbound else Message.objects.first().conversation
        )
        return actions.send_message(alice, conversation, body)

    return make


def send_now(message: Message) -> Message:
    """One pass of the outbox, then the message as stored."""
    outbox.run_once()
    message.refresh_from_db()
    return message


@pytest.fixture
def twilio_at(settings):
    def point(url: str, timeout: float = 5):
        settings.TWILIO_API_URL = url
        settings.TWILIO_TIMEOUT = timeout

    return point


def test_a_queued_text_goes_out_through_the_sdk_to_twilios_api(
    queued, twilio_api, twilio_at
):
    twilio_at(twilio_api)
    message = queued()
    assert message.status == Message.Status.QUEUED

    message = send_now(message)

    assert message.status == Message.Status.SENT
    assert SID_PATTERN.match(message.carrier_message_id)
    assert message.attempts == 1
    assert message.error_reason == ""


def test_twilios_refusal_of_an_invalid_request_fails_the_text_once(
    queued, twilio_api, twilio_at, settings
):
    # A typo in the account SID: Twilio's API description (and so the mock)
    # refuses the request outright.
    settings.TWILIO_ACCOUNT_SID = "AC-not-our-account"
    twilio_at(twilio_api)

    message = send_now(queued())

    assert message.status == Message.Status.FAILED
    assert message.attempts == 1
    assert message.error_reason.startswith("Twilio: ")
    assert message.carrier_message_id == ""


def twilio_error(code: int, message: str, status: int = 400) -> tuple[int, dict]:
    """An error answer exactly as Twilio's API gives it."""
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def test_the_request_is_the_one_twilio_expects(queued, twilio_errors, twilio_at):
    twilio_errors.answers = [twilio_error(21211, "Invalid 'To' Phone Number")]
    twilio_at(twilio_errors.url)
    message = send_now(queued())

    [request] = twilio_errors.requests
    assert request["path"] == f"/2010-04-01/Accounts/{TEST_SID}/Messages.json"
    fields = parse_qs(request["body"])
    assert fields["To"] == [LEAD_NUMBER]
    assert fields["From"] == [TWILIO_NUMBER]
    assert fields["Body"] == [message.body]
    assert fields["StatusCallback"] == [
        f"https://chat.example.com/carriers/twilio/status?ref={message.id}"
    ]


@pytest.mark.parametrize(
    ("answer", "status", "code", "reason"),
    [
        (
            twilio_error(21211, "Invalid 'To' Phone Number"),
            Message.Status.FAILED,
            "21211",
            "This is not a valid phone number.",
        ),
        (
            twilio_error(21614, "'To' number is not a valid mobile number"),
            Message.Status.FAILED,
            "21614",
            "This number cannot receive texts (it may be a landline).",
        ),
        (
            twilio_error(21999, "Something new went wrong"),
            Message.Status.FAILED,
            "21999",
            "Twilio: Something new went wrong. (error 21999)",
        ),
        (
            # Twilio's newer RFC 9457 error shape (TwilioServiceException).
            (
                400,
                {
                    "type": "https://www.twilio.com/docs/errors/21408",
                    "title": "Permission to send an SMS has not been enabled",
                    "status": 400,
                    "code": 21408,
                },
            ),
            Message.Status.FAILED,
            "21408",
            "Texting this region is not enabled on the Twilio account",
        ),
    ],
    ids=["invalid number", "landline", "unknown code", "problem details"],
)
def test_permanent_refusals_fail_the_text_with_a_reason(
    queued, twilio_errors, twilio_at, answer, status, code, reason
):
    twilio_errors.answers = [answer]
    twilio_at(twilio_errors.url)

    message = send_now(queued())

    assert message.status == status
    assert message.error_code == code
    assert message.error_reason.startswith(reason)
    assert len(twilio_errors.requests) == 1


def test_an_opted_out_recipient_fails_the_text_and_revokes_consent(
    queued, twilio_errors, twilio_at
):
    twilio_errors.answers = [
        twilio_error(21610, "Attempt to send to unsubscribed recipient")
    ]
    twilio_at(twilio_errors.url)

    message = send_now(queued())

    assert message.status == Message.Status.FAILED
    assert message.error_reason == "The recipient has opted out (replied STOP)."
    assert Consent.objects.get(number=LEAD_NUMBER).state == Consent.State.REVOKED


@pytest.mark.parametrize(
    "answer",
    [twilio_error(20429, "Too Many Requests", 429), (503, {"message": "Down"})],
    ids=["rate limited", "service unavailable"],
)
def test_throttling_and_outages_are_retried_after_a_backoff(
    queued, twilio_errors, twilio_at, answer
):
    twilio_errors.answers = [answer, twilio_error(21211, "Invalid 'To'")]
    twilio_at(twilio_errors.url)

    message = send_now(queued())

    assert message.status == Message.Status.QUEUED
    assert message.error_reason.startswith("Not sent yet, will retry")
    assert message.send_after > timezone.now()
    # Not before its time, however often the outbox looks.
    outbox.run_once()
    assert len(twilio_errors.requests) == 1

    Message.objects.filter(pk=message.pk).update(send_after=timezone.now())
    message = send_now(message)
    assert len(twilio_errors.requests) == 2
    assert message.attempts == 2
    assert message.status == Message.Status.FAILED


def test_retries_stop_after_the_last_attempt(queued, twilio_errors, twilio_at):
    twilio_errors.answers = [twilio_error(20429, "Too Many Requests", 429)] * (
        sending.MAX_ATTEMPTS
    )
    twilio_at(twilio_errors.url)
    message = queued()
    for _ in range(sending.MAX_ATTEMPTS):
        Message.objects.filter(pk=message.pk).update(send_after=None)
        message = send_now(message)

    assert message.status == Message.Status.FAILED
    assert message.attempts == sending.MAX_ATTEMPTS
    assert len(twilio_errors.requests) == sending.MAX_ATTEMPTS


def test_an_unreachable_twilio_is_retried(queued, twilio_at):
    twilio_at(closed_port_url())

    message = send_now(queued())

    assert message.status == Message.Status.QUEUED
    assert "could not be reached" in message.error_reason


def test_no_answer_after_sending_is_flagged_for_an_agent_not_resent(
    queued, twilio_errors, twilio_at
):
    twilio_errors.answers = ["hang"]
    twilio_at(twilio_errors.url, timeout=0.5)

    message = send_now(queued())

    assert message.status == Message.Status.CHECK
    assert "may have been sent" in message.error_reason
    outbox.run_once()
    assert len(twilio_errors.requests) == 1


def test_missing_credentials_fail_with_a_reason_for_an_admin(queued, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    message = send_now(queued())
    assert message.status == Message.Status.FAILED
    assert "TWILIO_AUTH_TOKEN" in message.error_reason
