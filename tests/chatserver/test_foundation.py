"""The foundation: model constraints, tenancy, the SMS permission rule, commands."""

import subprocess
import sys
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from chatserver import actions
from chatserver.models import (
    AgentGroup,
    Contact,
    ContactNumber,
    Lead,
    Message,
    SenderNumber,
    SmsPermission,
)
from chatserver.queries import access
from tests.servers import BIN

pytestmark = pytest.mark.django_db


# -- phone numbers ------------------------------------------------------------


def test_numbers_are_stored_in_e164_whatever_form_they_are_typed_in(org):
    contact = Contact.objects.create(organisation=org, first_name="Dana")
    number = ContactNumber.objects.create(
        organisation=org, contact=contact, number="(415) 555-0123"
    )
    number.refresh_from_db()
    assert number.number == "+14155550123"
    # and lookups find it in any form too
    assert ContactNumber.objects.filter(number="415.555.0123").get() == number


def test_an_invalid_number_fails_validation(org):
    contact = Contact.objects.create(organisation=org)
    number = ContactNumber(organisation=org, contact=contact, number="+1 555 0000")
    with pytest.raises(ValidationError):
        number.full_clean()


def test_a_sender_number_belongs_to_one_organisation_only(org):
    actions.add_number("+14155550100", "twilio", org)
    other = actions.add_organisation("Other Co")
    with pytest.raises(actions.ActionError, match="already a sender number"):
        actions.add_number("(415) 555-0100", "twilio", other)
    with pytest.raises(IntegrityError), transaction.atomic():
        SenderNumber.objects.create(organisation=other, number="+14155550100", carrier="twilio")


def test_a_carrier_message_id_is_stored_once(conversation):
    stored = conversation.messages.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            organisation=conversation.organisation,
            conversation=conversation,
            direction="in",
            status="received",
            carrier=stored.carrier,
            carrier_message_id=stored.carrier_message_id,
        )


def test_outbound_messages_without_a_carrier_id_yet_do_not_collide(conversation, alice):
    for _ in range(2):
        Message.objects.create(
            organisation=conversation.organisation,
            conversation=conversation,
            direction="out",
            status="queued",
            carrier="simulator",
        )
    assert conversation.messages.filter(carrier_message_id="").count() == 2


def test_a_client_id_makes_one_message_per_author(conversation, alice):
    client_id = uuid.uuid4()
    first = actions.send_message(alice, conversation, "Hello there", client_id)
    again = actions.send_message(alice, conversation, "Hello there", client_id)
    assert again.pk == first.pk
    assert conversation.messages.filter(direction="out").count() == 1


def test_messages_store_their_encoding_and_segments(org, conversation, alice):
    org.message_limit = "advanced"
    org.save()
    long_text = "Café? Sure — at 5. " * 5  # 95 characters, the em dash is not GSM-7
    message = actions.send_message(alice, conversation, long_text, uuid.uuid4())
    assert message.encoding == "UCS-2"
    assert message.segments == 2  # over 70 UCS-2 units: parts of at most 67


def test_the_standard_plan_refuses_what_it_cannot_send_and_stores_nothing(
    org, conversation, alice
):
    assert org.message_limit == "standard"
    with pytest.raises(actions.ActionError, match="not allowed on your plan: —"):
        actions.send_message(alice, conversation, "Sure — at 5", uuid.uuid4())
    with pytest.raises(actions.ActionError, match="Too long: 161 of 160"):
        actions.send_message(alice, conversation, "x" * 161, uuid.uuid4())
    assert not conversation.messages.filter(direction="out").exists()


# -- tenancy ----------------------------------------------------------------------


def test_an_agent_never_sees_another_organisations_leads(org, make_agent, text_in):
    text_in("Hello from a lead")
    other = actions.add_organisation("Other Co")
    outsider = make_agent("outsider", organisation=other)
    assert access.visible_leads(outsider).count() == 0
    lead = Lead.objects.get()
    assert not access.can_see_lead(outsider, lead)


def test_each_access_level_sees_its_leads(org, make_agent, text_in):
    owner = make_agent("owner", access="mine")
    unassigned_lead = text_in("one").conversation.lead
    assigned_lead = text_in("two").conversation.lead
    assigned_lead = actions.assign_lead(assigned_lead, owner, actor=None)
    expected = {
        "all": {unassigned_lead.id, assigned_lead.id},
        "unassigned": {unassigned_lead.id},
        "mine": set(),
        "assigned": {assigned_lead.id},
    }
    for level, lead_ids in expected.items():
        agent = make_agent(f"viewer-{level}", access=level)
        assert set(access.visible_leads(agent).values_list("id", flat=True)) == lead_ids
        for lead in (unassigned_lead, assigned_lead):
            assert access.can_see_lead(agent, lead) == (lead.id in lead_ids)
    assert set(access.visible_leads(owner).values_list("id", flat=True)) == {assigned_lead.id}


# -- the SMS permission rule --------------------------------------------------------


@pytest.mark.parametrize(
    "user_setting, group_settings, allowed",
    [
        ("", [], False),  # unset everywhere: no
        ("allow", [], True),
        ("deny", [], False),
        ("", ["allow"], True),
        ("", ["deny"], False),
        ("", ["allow", "deny"], False),  # among groups, deny wins
        ("", ["allow", ""], True),
        ("allow", ["deny"], False),  # a group's Deny beats the agent's Allow
        ("deny", ["allow"], False),  # and the agent's Deny a group's Allow
        ("", ["", "allow"], True),  # one Allow anywhere, no Deny: yes
    ],
)
def test_sms_permission_deny_wins(org, make_agent, user_setting, group_settings, allowed):
    agent = make_agent(sms=user_setting)
    for i, setting in enumerate(group_settings):
        group = AgentGroup.objects.create(organisation=org, name=f"team {i}", sms=setting)
        group.members.add(agent)
    assert access.sms_allowed(agent) is allowed
    assert SmsPermission.DENY == "deny"


# -- commands -----------------------------------------------------------------------


def test_commands_set_up_a_team(db, capsys):
    call_command("add_org", "Summit Roofing")
    call_command("add_agent", "dana", "--password", "pw-dana-123", "--access", "all",
                 "--sms", "allow", "--admin")
    call_command("add_number", "+1 415 555 0100", "--carrier", "twilio", "--agent", "dana")
    out = capsys.readouterr().out
    assert "Using organisation 'Summit Roofing'" in out
    sender = SenderNumber.objects.get()
    assert sender.number == "+14155550100" and sender.agent.user.username == "dana"
    assert sender.agent.user.is_staff and sender.agent.access == "all"


@pytest.mark.parametrize(
    "args, error",
    [
        (["add_number", "+1 555", "--carrier", "twilio"], "is too short"),
        (["add_agent", "zed", "--password", "pw-zed-123", "--org", "Nope"],
         "No organisation named 'Nope'"),
        (["add_agent", "taken", "--password", "pw"], "already exists"),
        (["add_org", "Acme Roofing"], "already exists"),
    ],
)
def test_commands_refuse_bad_input_clearly(org, make_agent, args, error):
    make_agent("taken")
    with pytest.raises(CommandError, match=error):
        call_command(*args)


def test_commands_ask_which_organisation_when_there_are_several(org):
    actions.add_organisation("Second Co")
    with pytest.raises(CommandError, match="several organisations"):
        call_command("add_agent", "zed", "--password", "pw-zed-123")


def test_the_console_script_exits_non_zero_on_bad_input(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CHATSERVER_VAR_DIR": str(tmp_path),
    }
    run = [str(BIN / "chatserver")]
    assert subprocess.run([*run, "migrate", "-v0"], env=env).returncode == 0
    result = subprocess.run([*run, "add_org", ""], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "needs a name" in result.stderr
    result = subprocess.run(
        [*run, "add_number", "12", "--carrier", "twilio"],
        env=env, capture_output=True, text=True,
    )
    assert result.returncode != 0 and "organisation" in result.stderr
    assert sys.executable  # the same interpreter's environment ran the script
