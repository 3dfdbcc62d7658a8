"""What a lead's texts do to consent: keywords, possible opt-outs, texting first,
the carrier's own opt-out signals."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from carriers.base import CarrierError, DeliveryStatus, ErrorKind, StatusUpdate
from chatserver import actions
from chatserver.actions import delivery as sending
from chatserver.models import Consent, Message
from chatserver.rules import keywords
from tests.chatserver.consent_support import (
    audit,
    auto_replies,
    consent_events,
    inbound,
    manual_lead,
    outbound,
    state,
)
from tests.conftest import fictional_number

pytestmark = pytest.mark.django_db

State = Consent.State

OPT_OUT = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
]
OPT_IN = ["START", "YES", "UNSTOP"]
HELP = ["HELP", "INFO"]

# How leads really type a keyword: any case, spaces and punctuation around it.
VARIANTS = {
    "as-is": lambda w: w,
    "lower": str.lower,
    "capitalized": str.capitalize,
    "mixed": lambda w: "".join(c.lower() if i % 2 else c for i, c in enumerate(w)),
    "spaces": lambda w: f"   {w}  ",
    "tabs-newline": lambda w: f"\t{w.lower()}\n",
    "full-stop": lambda w: f"{w.capitalize()}.",
    "exclaimed": lambda w: f"{w}!!",
    "quoted": lambda w: f'"{w.lower()}"',
}


@pytest.fixture
def lead_number(sender):
    """A number whose lead texted first, so it is Authorized."""
    number = fictional_number()
    inbound(sender, number, "Hi, I'd like a quote for a new roof")
    return number


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("word", OPT_OUT)
def test_an_opt_out_keyword_revokes_consent_and_confirms_once(
    org, sender, lead_number, word, variant
):
    stop = inbound(sender, lead_number, variant(word))

    assert state(org, lead_number) == State.REVOKED
    change = audit(org, lead_number)[-1]
    assert (change.old_state, change.new_state) == (State.AUTHORIZED, State.REVOKED)
    assert change.reason == f"lead texted {word}"
    assert change.message == stop and change.agent is None
    [reply] = auto_replies(lead_number)
    assert reply.body == (
        "Acme Roofing: You are unsubscribed and will get no more messages. "
        "Reply START to resubscribe."
    )
    assert reply.status == Message.Status.QUEUED
    stop.refresh_from_db()
    assert not stop.possible_optout  # a keyword is acted on, not flagged


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("word", OPT_IN)
def test_an_opt_in_keyword_authorizes_again_with_a_confirmation(
    org, sender, lead_number, word, variant
):
    inbound(sender, lead_number, "STOP")
    again = inbound(sender, lead_number, variant(word))

    assert state(org, lead_number) == State.AUTHORIZED
    change = audit(org, lead_number)[-1]
    assert (change.old_state, change.new_state) == (State.REVOKED, State.AUTHORIZED)
    assert change.reason == f"lead texted {word}" and change.message == again
    assert [m.body for m in auto_replies(lead_number)][-1] == (
        "Acme Roofing: You are subscribed again. Reply STOP to opt out."
    )
    assert len(auto_replies(lead_number)) == 2  # the STOP's and this one


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("word", HELP)
def test_help_and_info_get_the_help_text_and_change_nothing(
    org, sender, lead_number, word, variant
):
    changes_before = len(audit(org, lead_number))
    inbound(sender, lead_number, variant(word))

    [reply] = auto_replies(lead_number)
    # Who is texting and how to reach them: the number the lead texted, until
    # the organisation says otherwise (below).
    assert reply.body == (
        "Acme Roofing: for help, contact us at +1 415-555-0100. "
        "Msg & data rates may apply. Reply STOP to opt out."
    )
    assert state(org, lead_number) == State.AUTHORIZED
    assert len(audit(org, lead_number)) == changes_before


def test_help_is_answered_even_after_an_opt_out(org, sender, lead_number):
    inbound(sender, lead_number, "stop")
    inbound(sender, lead_number, "help")
    assert [m.body.split(":")[1].strip()[:9] for m in auto_replies(lead_number)] == [
        "You are u",
        "for help,",
    ]
    assert state(org, lead_number) == State.REVOKED


def test_help_says_how_to_reach_the_organisation_as_it_set_it(
    org, sender, lead_number
):
    call_command("set_org", "--help-contact", "(503) 555-0100 or acme.example/help")
    inbound(sender, lead_number, "HELP")
    [reply] = auto_replies(lead_number)
    assert reply.body == (
        "Acme Roofing: for help, contact us at (503) 555-0100 or acme.example/help. "
        "Msg & data rates may apply. Reply STOP to opt out."
    )
    with pytest.raises(CommandError, match="too long"):
        call_command("set_org", "--help-contact", "x" * 121)


@pytest.mark.parametrize("word", OPT_IN)
def test_a_first_yes_is_welcomed_not_subscribed_again(org, sender, word):
    """A number asked for its consent answers YES: it never opted out."""
    number = fictional_number()
    conversation = manual_lead(org, sender, number)
    alice = actions.add_agent("alice", "pw-alice-1", org, access="all", sms="allow")
    request = actions.request_authorization(alice, conversation)
    assert state(org, number) == State.PENDING and request.body
    inbound(sender, number, word)
    assert state(org, number) == State.AUTHORIZED
    [reply] = auto_replies(number)
    assert "again" not in reply.body
    assert reply.body == (
        "Acme Roofing: Thanks, you will get texts from us about your inquiry. "
        "Reply HELP for help, STOP to opt out."
    )


def test_the_organisations_own_texts_are_used(org, sender, lead_number):
    org.optout_confirmation_text = "{org} here: you're out. Text START to return."
    org.help_text = "{org} help: call (415) 555-0100. {braces} stay as typed."
    org.save()
    inbound(sender, lead_number, "help")
    inbound(sender, lead_number, "stop")
    assert [m.body for m in auto_replies(lead_number)] == [
        "Acme Roofing help: call (415) 555-0100. {braces} stay as typed.",
        "Acme Roofing here: you're out. Text START to return.",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Please stop texting me",
        "stop sending me messages!!",
        "STOP STOP",
        "stop please",
        "Unsubscribe me please",
        "Don't text me again",
        "do not contact me",
        "Take me off your list",
        "remove me from this",
        "please opt me out",
        "No more texts please",
        "Wrong number",
        "I asked you to STOP texting me",
        "Stop with the messages",
    ],
)
def test_a_longer_message_that_reads_like_an_opt_out_is_flagged_not_acted_on(
    org, sender, lead_number, body
):
    message = inbound(sender, lead_number, body)
    message.refresh_from_db()
    assert message.possible_optout
    assert state(org, lead_number) == State.AUTHORIZED  # an agent confirms it
    assert auto_replies(lead_number) == []


@pytest.mark.parametrize(
    "body",
    [
        "I can't stop smiling about the new roof",
        "Can you stop by at 5?",
        "Cancel my Tuesday appointment",
        "Yes please, Tuesday works",
        "The end of the month is fine",
        "Help me pick a color",
        "I stopped by your office today",
        "Start date is Monday",
        "Is the info packet ready?",
    ],
)
def test_a_keyword_inside_an_ordinary_message_is_not_an_opt_out(
    org, sender, lead_number, body
):
    message = inbound(sender, lead_number, body)
    message.refresh_from_db()
    assert not message.possible_optout
    assert state(org, lead_number) == State.AUTHORIZED
    assert auto_replies(lead_number) == []


def test_keyword_reading_handles_unicode_and_joined_words():
    assert keywords.keyword_of("ＳＴＯＰ") == keywords.Keyword.OPT_OUT  # full-width
    assert keywords.keyword_of("Opt-Out") == keywords.Keyword.OPT_OUT
    assert keywords.keyword_of("stop all") == keywords.Keyword.OPT_OUT
    assert keywords.keyword_of("STOP 🛑") == keywords.Keyword.OPT_OUT
    assert keywords.keyword_of("stops") is None
    assert keywords.keyword_of("") is None


def test_a_lead_who_texts_first_is_authorized_and_audited(org, sender):
    number = fictional_number()
    first = inbound(sender, number, "Hi, is the quote ready?")
    assert state(org, number) == State.AUTHORIZED
    [change] = audit(org, number)
    assert (change.old_state, change.reason, change.message) == (
        State.NOT_AUTHORIZED,
        "lead texted first",
        first,
    )
    [event] = consent_events(org, number)
    assert event["lead"] == first.conversation.lead_id
    assert (event["state"], event["notice"]) == ("authorized", None)


def test_an_organisation_can_require_explicit_authorization(org, sender, alice):
    org.texted_first_authorizes = False
    org.save()
    number = fictional_number()
    message = inbound(sender, number, "Hi, is the quote ready?")
    assert state(org, number) == State.NOT_AUTHORIZED and audit(org, number) == []
    with pytest.raises(actions.ActionError) as refused:
        actions.send_message(alice, message.conversation, "Yes, attached!")
    assert refused.value.code == "consent_not_authorized"


def test_a_first_text_that_reads_like_an_opt_out_authorizes_nothing(org, sender):
    number = fictional_number()
    message = inbound(sender, number, "Who is this? Don't text me")
    assert message.possible_optout
    assert state(org, number) == State.NOT_AUTHORIZED


def test_a_first_text_of_stop_revokes_a_number_never_texted(org, sender):
    number = fictional_number()
    inbound(sender, number, "STOP")
    assert state(org, number) == State.REVOKED
    assert len(auto_replies(number)) == 1


def test_a_repeated_stop_changes_nothing_and_is_not_confirmed_again(
    org, sender, lead_number
):
    inbound(sender, lead_number, "STOP")
    inbound(sender, lead_number, "stop")
    inbound(sender, lead_number, "UNSUBSCRIBE")
    assert len(auto_replies(lead_number)) == 1
    assert [c.new_state for c in audit(org, lead_number)] == ["authorized", "revoked"]


def test_a_redelivered_stop_webhook_changes_nothing(org, sender, lead_number):
    assert inbound(sender, lead_number, "STOP", sid="SMredelivered") is not None
    inbound(sender, lead_number, "START", sid="SMstart")
    assert inbound(sender, lead_number, "STOP", sid="SMredelivered") is None
    assert state(org, lead_number) == State.AUTHORIZED
    assert len(auto_replies(lead_number)) == 2


@pytest.mark.parametrize("word", ["STOP", "START", "HELP"])
def test_no_reply_when_the_carrier_answers_keywords_itself(
    org, sender, lead_number, word
):
    sender.carrier_confirms_optout = True
    sender.save()
    if word == "START":
        inbound(sender, lead_number, "STOP")
    inbound(sender, lead_number, word)
    assert auto_replies(lead_number) == []
    assert state(org, lead_number) == (
        State.REVOKED if word == "STOP" else State.AUTHORIZED
    )


def test_the_carriers_opt_out_type_is_honoured_whatever_the_text(
    org, sender, lead_number
):
    # Twilio's Advanced Opt-Out can have custom keywords ("ARRET"): it tells
    # us with OptOutType, and has already answered the lead.
    message = inbound(sender, lead_number, "Arret", carrier_keyword="STOP")
    assert state(org, lead_number) == State.REVOKED
    change = audit(org, lead_number)[-1]
    assert change.reason == "carrier reported STOP" and change.message == message
    assert auto_replies(lead_number) == []
    inbound(sender, lead_number, "Commencer", carrier_keyword="START")
    assert state(org, lead_number) == State.AUTHORIZED
    assert auto_replies(lead_number) == []


def test_carrier_error_21610_revokes_the_number_and_stops_what_waits(
    org, sender, alice, lead_number
):
    conversation = inbound(sender, lead_number, "Thanks!").conversation
    first = actions.send_message(alice, conversation, "Your quote is attached")
    second = actions.send_message(alice, conversation, "And the warranty terms")
    claimed = sending.claim(first.id)
    sending.record_failure(
        claimed,
        CarrierError(
            ErrorKind.OPTED_OUT, "21610", "Attempt to send to unsubscribed recipient"
        ),
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.error_code) == (Message.Status.FAILED, "21610")
    assert state(org, lead_number) == State.REVOKED
    change = audit(org, lead_number)[-1]
    assert change.reason == "carrier error 21610: recipient opted out"
    assert change.message == first
    # The second text, still queued, never goes.
    assert second.status == Message.Status.FAILED and second.error_code == "opted_out"
    assert sending.due_message_ids() == []


def test_a_delivery_receipt_with_21610_revokes_the_number(
    org, sender, alice, lead_number
):
    conversation = inbound(sender, lead_number, "Thanks!").conversation
    message = actions.send_message(alice, conversation, "Your quote is attached")
    sending.record_sent(sending.claim(message.id), sending.SendResult("SMsent1"))
    actions.record_status(
        StatusUpdate(
            carrier=sender.carrier,
            carrier_message_id="SMsent1",
            status=DeliveryStatus.UNDELIVERED,
            error=CarrierError(ErrorKind.OPTED_OUT, "21610", "unsubscribed recipient"),
        )
    )
    assert state(org, lead_number) == State.REVOKED
    assert audit(org, lead_number)[-1].message == message


# -- an agent confirms a possible opt-out -------------------------------------


def test_an_agent_confirms_a_possible_opt_out_with_one_click(
    org, sender, alice, lead_number
):
    sender.carrier_confirms_optout = True  # the carrier saw no keyword: we confirm
    sender.save()
    message = inbound(sender, lead_number, "please stop texting me")
    assert actions.confirm_optout(alice, message) is True

    assert state(org, lead_number) == State.REVOKED
    change = audit(org, lead_number)[-1]
    assert (change.agent, change.message) == (alice, message)
    assert change.reason == "opt-out confirmed by Alice"
    assert len(auto_replies(lead_number)) == 1
    event = consent_events(org, lead_number)[-1]
    assert (event["state"], event["by"], event["message"]) == (
        "revoked",
        alice.id,
        message.id,
    )
    assert "opted out" in event["notice"]
    # A second click (the flag is resolved) is refused, and sends nothing.
    with pytest.raises(actions.ActionError) as stale:
        actions.confirm_optout(alice, message)
    assert stale.value.code == "stale"
    assert len(auto_replies(lead_number)) == 1


def test_only_agents_who_may_act_on_the_lead_confirm_an_opt_out(
    org, sender, alice, bob, make_agent, lead_number
):
    message = inbound(sender, lead_number, "please stop texting me")
    partner = make_agent("partner", external=True)
    message.conversation.lead.shared_with.add(partner)
    with pytest.raises(actions.ActionError) as hidden:
        actions.confirm_optout(bob, message)  # bob sees only his own leads
    assert hidden.value.code == "not_found"
    with pytest.raises(actions.ActionError) as read_only:
        actions.confirm_optout(partner, message)
    assert read_only.value.code == "forbidden"
    mine = actions.send_message(alice, message.conversation, "Sorry about that")
    with pytest.raises(actions.ActionError, match="message from the lead"):
        actions.confirm_optout(alice, mine)
    assert state(org, lead_number) == State.AUTHORIZED


def test_an_opt_out_is_shown_on_every_lead_with_the_number(org, sender):
    number = fictional_number()
    one = manual_lead(org, sender, number, "Dana Whitfield")
    two = manual_lead(org, sender, number, "Dana Whitfield (second home)")
    inbound(sender, number, "STOP")
    events = consent_events(org, number)
    assert {e["lead"] for e in events} == {one.lead_id, two.lead_id}
    assert {(e["number"], e["state"], e["reason"]) for e in events} == {
        (number, "revoked", "lead texted STOP")
    }
    assert outbound(number, kind=Message.Kind.TEXT) == []


# -- the soft opt-out flag resolves (issue 16) ---------------------------------------


def flag_events(message) -> list[bool]:
    """What consoles were told of the message's flag, in order."""
    from chatserver.models import Event

    return [
        e.payload["message"]["possible_optout"]
        for e in Event.objects.filter(type="message.updated").order_by("id")
        if e.payload["message"]["id"] == message.id
    ]


def test_a_flag_overtaken_by_start_goes_and_confirming_it_is_refused(
    org, sender, alice, lead_number
):
    """Today's bug: clicked after the lead texted START, "Confirm opt-out"
    unsubscribed them again and texted them a second confirmation."""
    flagged = inbound(sender, lead_number, "please stop texting me")
    assert flagged.possible_optout
    inbound(sender, lead_number, "STOP")
    inbound(sender, lead_number, "START")
    assert state(org, lead_number) == State.AUTHORIZED
    replies = len(auto_replies(lead_number))

    flagged.refresh_from_db()
    assert not flagged.possible_optout
    assert flag_events(flagged) == [False]  # every console drops the button
    with pytest.raises(actions.ActionError) as stale:
        actions.confirm_optout(alice, flagged)
    assert stale.value.code == "stale"
    assert "authorized" in stale.value.reason
    assert state(org, lead_number) == State.AUTHORIZED
    assert len(auto_replies(lead_number)) == replies


def test_a_confirmed_flag_goes_from_every_console(org, sender, alice, lead_number):
    flagged = inbound(sender, lead_number, "please stop texting me")
    actions.confirm_optout(alice, flagged)
    flagged.refresh_from_db()
    assert not flagged.possible_optout
    assert flag_events(flagged) == [False]


def test_a_dismissed_flag_goes_and_consent_stays(org, sender, alice, lead_number):
    flagged = inbound(sender, lead_number, "please stop texting me")
    before = state(org, lead_number)

    actions.dismiss_optout(alice, flagged)

    flagged.refresh_from_db()
    assert not flagged.possible_optout
    assert flag_events(flagged) == [False]
    assert state(org, lead_number) == before
    with pytest.raises(actions.ActionError) as stale:
        actions.confirm_optout(alice, flagged)
    assert stale.value.code == "stale"
    with pytest.raises(actions.ActionError):
        actions.dismiss_optout(alice, flagged)
