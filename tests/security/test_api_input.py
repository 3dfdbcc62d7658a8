"""The JSON API against anything a browser, or anyone, could send: bodies of
any shape (or none, or not JSON), fields of the wrong types, odd query
strings. The caller may see everything the ids name, so requests reach the
checks of each route: every answer is JSON, and never a 5xx."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chatserver import actions
from chatserver.models import KeywordRule, MessageCategory, Template
from tests.chatserver.followup_support import followup_ids
from tests.chatserver.leads_support import make_lead
from tests.security.test_access_probes import routes

pytestmark = pytest.mark.django_db

FIELDS = [
    "body", "client_id", "schedule", "agent", "assignee", "first_name",
    "last_name", "name", "number", "kind", "role", "category", "contact",
    "send_at", "cancel_on_reply",
]  # fmt: skip
ODD_TEXT = ["", " ", "\x00", "a\x00b", "²", "9" * 5000, "<script>", "x" * 5000,
            "+14155550123", "STOP", "\ud7ff", "😀" * 100]  # fmt: skip
ODD_QUERY = ["", "²", "-1", "9" * 5000, "%00", "2025-13", "2025-01-01T00:00:00|1",
             "x" * 3000]  # fmt: skip

CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=6).map(json.dumps),
    st.recursive(values, lambda c: st.lists(c, max_size=3), max_leaves=6).map(
        json.dumps
    ),
    st.sampled_from(["", "{", "[]", "null", '"text"', "1e999999", "[" * 3000]),
    st.text(max_size=60),
)


@pytest.fixture
def caller(org, sender, make_agent, text_in):
    """An admin who sees every lead, and the ids of things of theirs."""
    agent = make_agent("olive", access="all", admin=True)
    inbound = text_in("Hello", from_number="+14155550177")
    lead = make_lead(org, "Ned Own", assignee=agent, number="+14155550178")
    category = MessageCategory.objects.create(organisation=org, name="Quotes")
    template = Template.objects.create(
        organisation=org, name="Hi", body="Hi {lead.first_name}", category=category
    )
    rule = KeywordRule.objects.create(organisation=org, keyword="PRICE", template=template)
    client = Client()
    client.force_login(agent.user)
    ids = {
        "rule_id": rule.id,
        "number_id": sender.id,
        "lead_id": lead.id,
        "conversation_id": inbound.conversation_id,
        "message_id": inbound.id,
        "contact_id": lead.contacts.get().id,
        "template_id": template.id,
        "category_id": category.id,
        **followup_ids(agent, lead),
    }
    actions.add_note(agent, lead, "Hi")
    return client, ids


def api_paths(ids) -> list[str]:
    return [
        "/" + re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), route)
        for route in routes()
        if route.startswith("api/")
    ]


def assert_clear(response, what):
    assert response.status_code < 500, (what, response.content[:300])
    if response.status_code == 405:
        return
    assert response["Content-Type"] == "application/json", what
    answer = json.loads(response.content)
    if response.status_code >= 400:
        error = answer["error"]
        assert error["code"] and error["reason"], what


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_body_to_any_api_route_gets_a_json_answer_never_a_5xx(caller, data):
    client, ids = caller
    path = data.draw(st.sampled_from(api_paths(ids)), label="path")
    body = data.draw(bodies, label="body")
    content_type = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")
    response = client.generic("POST", path, body, content_type=content_type)
    assert_clear(response, (path, body[:200]))


def test_odd_query_values_get_a_json_answer_never_a_5xx(caller):
    client, ids = caller
    names = ["before", "lead", "conversation", "limit", "after", "bucket", "q", "month"]
    for path in api_paths(ids):
        if client.get(path).status_code == 405:
            continue  # takes no GET, reads no query
        for value in ODD_QUERY:
            response = client.get(path, dict.fromkeys(names, value))
            assert_clear(response, (path, value[:20]))
        # One at a time too: a view may stop at the first bad one.
        for name in names:
            for value in ("²", "9" * 5000):
                response = client.get(path, {name: value})
                assert_clear(response, (path, name, value[:20]))


def test_text_with_a_nul_character_is_refused_by_every_write(caller):
    """No database text column can hold a NUL (PostgreSQL refuses it): every
    JSON write says so instead of failing."""
    client, ids = caller
    for path in api_paths(ids):
        for field in FIELDS:
            body = json.dumps({"number": "+14155550179", field: "a\x00b"})
            response = client.generic(
                "POST", path, body, content_type="application/json"
            )
            if response.status_code == 405:
                break
            assert_clear(response, (path, field))
            # Nothing was made with it (routes that read no body answer 200).
            assert response.status_code != 201, (path, field)


def test_a_lone_surrogate_is_refused_with_a_clear_400_by_every_write(caller):
    """Issue 16, finding 5: ``"\\ud800"`` is valid JSON but no character: it
    used to reach the database and answer 500 on notes, messages, leads and
    contacts. Every write now refuses it, saying why, and stores nothing."""
    client, ids = caller
    for path in api_paths(ids):
        for field in FIELDS:
            # Spelt as JSON spells it: the escape, not the code point.
            body = '{"number": "+14155550179", "%s": "ok \\ud800"}' % field
            response = client.generic(
                "POST", path, body, content_type="application/json"
            )
            if response.status_code == 405:
                break
            assert_clear(response, (path, field))
            assert response.status_code != 201, (path, field)
    # Where the text is what the route takes, the answer says what is wrong.
    lead, conversation = ids["lead_id"], ids["conversation_id"]
    for path, body in [
        (f"/api/leads/{lead}/notes", '{"body": "\\ud800"}'),
        (f"/api/conversations/{conversation}/messages", '{"body": "\\ud800"}'),
        ("/api/leads", '{"first_name": "\\ud800", "number": "+14155550179"}'),
        (f"/api/leads/{lead}/contacts", '{"first_name": "Al\\udfff"}'),
    ]:
        response = client.generic("POST", path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.content)
        assert "surrogate" in json.loads(response.content)["error"]["reason"], path
