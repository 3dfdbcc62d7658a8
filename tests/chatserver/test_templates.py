"""Templates with merge fields, prepared by admins and chosen from the chatbox,
and message categories."""

import uuid

import pytest
from django.core.exceptions import ValidationError

from chatserver import actions
from chatserver.models import Contact, ContactNumber, MessageCategory, Template
from chatserver.rules import templating
from tests.chatserver.leads_support import api, login, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(org, sender, make_agent, authorized):
    alice = make_agent(
        "alice", access="all", first_name="Alice", email="alice@example.com"
    )
    lead = make_lead(org, "Dana Whitfield", assignee=alice, number="+14155550123")
    authorized("+14155550123")
    quote = MessageCategory.objects.create(organisation=org, name="Quote")
    template = Template.objects.create(
        organisation=org,
        name="Quote follow-up",
        body=(
            "Hi {lead.first_name}, this is {agent.first_name} from {org.name}. "
            "Your quote for {lead.name} is ready: call {agent.phone} {{any time}}."
        ),
        category=quote,
    )
    return alice, lead, quote, template


def test_templates_come_filled_in_for_the_chatbox_lead_and_agent(setup, sender):
    alice, lead, quote, template = setup
    conversation = actions.open_conversation(
        alice, lead, lead.contacts.get().numbers.get()
    )
    status, answer = api(
        login(alice), "GET", "/api/templates", {"conversation": conversation.id}
    )
    assert status == 200
    [item] = answer["templates"]
    assert item["text"] == (
        "Hi Dana, this is Alice from Acme Roofing. Your quote for Dana Whitfield "
        f"is ready: call {sender.number} {{any time}}."
    )
    assert item["category"] == quote.id
    assert answer["categories"] == [{"id": quote.id, "name": "Quote"}]
    # Without a lead the raw templates come, to pick from.
    status, answer = api(login(alice), "GET", "/api/templates")
    assert "text" not in answer["templates"][0]
    assert answer["templates"][0]["body"] == template.body


def test_the_chatbox_contact_fills_the_lead_fields(setup, org):
    alice, lead, quote, template = setup
    kim = Contact.objects.create(organisation=org, first_name="Kim", role="co_borrower")
    kim.leads.add(lead)
    number = ContactNumber.objects.create(
        organisation=org, contact=kim, number="+14155550124"
    )
    conversation = actions.open_conversation(alice, lead, number)
    status, answer = api(
        login(alice), "GET", "/api/templates", {"conversation": conversation.id}
    )
    assert answer["templates"][0]["text"].startswith("Hi Kim,")
    # For the lead as a whole, the borrower is greeted.
    status, answer = api(login(alice), "GET", "/api/templates", {"lead": lead.id})
    assert answer["templates"][0]["text"].startswith("Hi Dana,")


def test_a_text_sent_from_a_template_keeps_its_category(setup, sender):
    alice, lead, quote, template = setup
    conversation = actions.open_conversation(
        alice, lead, lead.contacts.get().numbers.get()
    )
    message = actions.send_message(
        alice, conversation, "Your quote", uuid.uuid4(), quote.id
    )
    assert message.category == quote
    other = actions.add_organisation("Rival Roofing")
    theirs = MessageCategory.objects.create(organisation=other, name="Quote")
    with pytest.raises(actions.ActionError, match="No such message category"):
        actions.send_message(alice, conversation, "Hi", uuid.uuid4(), theirs.id)


@pytest.mark.parametrize(
    "body",
    [
        "Hi {lead.organisation}",  # not a field: no way to other objects
        "Hi {agent.user.password}",
        "Hi {lead.first_name.__class__}",
        "{0.__class__.__mro__}",
        "Hi {lead.first_name!r}",
        "Hi {lead.first_name:>50}",
        "Hi {}",
        "Hi {lead.first_name",
        "Hi lead.first_name}",
    ],
)
def test_templates_reach_nothing_but_their_fields(setup, org, body):
    alice, lead, quote, template = setup
    bad = Template(organisation=org, name="Bad", body=body)
    with pytest.raises(ValidationError) as refused:
        bad.full_clean()
    assert "body" in refused.value.message_dict
    with pytest.raises(templating.TemplateError):
        templating.render(
            body, templating.Context(organisation=org, lead=lead, agent=alice)
        )


def test_an_unknown_field_is_named_with_the_ones_that_exist(org):
    with pytest.raises(templating.TemplateError) as refused:
        templating.check("Hello {lead.nickname}")
    assert "Unknown field {lead.nickname}" in str(refused.value)
    assert "{lead.first_name}" in str(refused.value)
    assert templating.check("Hi {lead.first_name}, {{literally}}") == [
        "lead.first_name"
    ]


def test_a_template_saved_badly_still_lists_with_its_problem(setup, org):
    alice, lead, quote, template = setup
    # Saved around validation (an old row, a shell): listed, not rendered.
    Template.objects.create(organisation=org, name="Broken", body="Hi {lead.age}")
    status, answer = api(login(alice), "GET", "/api/templates", {"lead": lead.id})
    broken = next(t for t in answer["templates"] if t["name"] == "Broken")
    assert broken["text"] is None and "Unknown field {lead.age}" in broken["error"]


def test_the_admin_refuses_a_template_with_an_unknown_field(org, make_agent, client):
    boss = make_agent("boss", admin=True)
    client.force_login(boss.user)
    response = client.post(
        "/admin/chatserver/template/add/",
        {"organisation": org.id, "name": "Oops", "body": "Hi {lead.frist_name}"},
    )
    assert response.status_code == 200
    assert "Unknown field {lead.frist_name}" in response.content.decode()
    assert not Template.objects.exists()
