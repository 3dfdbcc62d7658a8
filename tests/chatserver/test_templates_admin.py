"""Saved replies managed from the console: admins create, edit and delete
templates and their categories through the JSON API; everyone else may only
read them; every change reaches the organisation's open consoles."""

from __future__ import annotations

import pytest

from chatserver.actions import templates as saved_replies
from chatserver.models import MessageCategory, Template
from tests.chatserver.leads_support import api, login
from tests.consumers.console_support import connect, db

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_agent):
    admin = make_agent("alice", access="all", first_name="Alice", admin=True)
    agent = make_agent("bob", access="mine", first_name="Bob")
    return admin, agent


def test_an_admin_files_and_words_the_teams_saved_replies(org, people):
    admin, _ = people
    client = login(admin)
    status, answer = api(client, "POST", "/api/categories", {"name": "Quotes"})
    assert status == 201
    quotes = answer["category"]["id"]
    status, answer = api(
        client,
        "POST",
        "/api/templates",
        {"name": "Quote ready", "body": "Hi {lead.first_name}, your quote is ready.",
         "category": quotes},
    )  # fmt: skip
    assert status == 201
    template = answer["template"]
    assert template["category"] == quotes and template["name"] == "Quote ready"

    status, answer = api(
        client,
        "POST",
        f"/api/templates/{template['id']}",
        {"name": "Quote is ready", "body": "Hi {lead.first_name}: it is ready.",
         "category": None},
    )  # fmt: skip
    assert status == 200
    saved = Template.objects.get(pk=template["id"])
    assert (saved.name, saved.body, saved.category) == (
        "Quote is ready",
        "Hi {lead.first_name}: it is ready.",
        None,
    )
    status, _ = api(client, "POST", f"/api/categories/{quotes}", {"name": "Quote"})
    assert status == 200 and MessageCategory.objects.get(pk=quotes).name == "Quote"

    # Listed for every agent, as the composer reads them.
    status, listed = api(client, "GET", "/api/templates")
    assert [t["name"] for t in listed["templates"]] == ["Quote is ready"]
    assert [c["name"] for c in listed["categories"]] == ["Quote"]

    # Deleting a category leaves its templates, without one.
    api(client, "POST", f"/api/templates/{template['id']}",
        {"name": "Quote is ready", "body": "Ready.", "category": quotes})  # fmt: skip
    assert api(client, "DELETE", f"/api/categories/{quotes}")[0] == 200
    assert Template.objects.get(pk=template["id"]).category is None
    assert api(client, "DELETE", f"/api/templates/{template['id']}")[0] == 200
    assert not Template.objects.filter(organisation=org).exists()


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"name": "Hi", "body": "Hi {lead.nickname}"}, "Unknown field {lead.nickname}"),
        ({"name": "Hi", "body": "50% off {"}, "A lone brace"),
        ({"name": "", "body": "Hello"}, "Enter the template's name"),
        ({"name": "Hi", "body": "   "}, "Write the template's text"),
        ({"name": "Hi", "body": "x" * 2001}, "too long"),
        ({"name": "Hi", "body": "Hello", "category": 987654}, "No such message category"),
    ],
)
def test_a_template_that_cannot_work_is_refused_with_the_reason(
    org, people, fields, reason
):
    admin, _ = people
    status, answer = api(login(admin), "POST", "/api/templates", fields)
    assert status in (400, 404) and reason in answer["error"]["reason"]
    assert not Template.objects.exists()


def test_category_names_are_unique_whatever_their_case(org, people):
    admin, _ = people
    client = login(admin)
    api(client, "POST", "/api/categories", {"name": "Follow-up"})
    status, answer = api(client, "POST", "/api/categories", {"name": "follow-up"})
    assert status == 409 and "exists already" in answer["error"]["reason"]
    assert MessageCategory.objects.count() == 1


def test_only_admins_change_saved_replies(org, people):
    admin, agent = people
    template = Template.objects.create(organisation=org, name="Hi", body="Hello")
    client = login(agent)
    for method, path, data in [
        ("POST", "/api/templates", {"name": "Mine", "body": "Hi"}),
        ("POST", f"/api/templates/{template.id}", {"name": "Mine", "body": "Hi"}),
        ("DELETE", f"/api/templates/{template.id}", None),
        ("POST", "/api/categories", {"name": "Mine"}),
    ]:
        status, answer = api(client, method, path, data)
        assert status == 403, (method, path)
        assert answer["error"]["reason"] == "Only admins manage saved replies."
    assert Template.objects.get().name == "Hi"
    assert not MessageCategory.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_open_consoles_hear_of_a_change_at_once(org, people):
    admin, agent = people
    console = await connect(agent)
    await db(saved_replies.save_template)(org, None, "Hi", "Hello", None)
    await console.until("templates.changed")
    await console.close()
