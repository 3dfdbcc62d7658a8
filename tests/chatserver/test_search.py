"""Search for leads and messages, scoped by what the agent may see; and the
list and search endpoints' query counts staying flat as rows grow."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.models import Contact, Lead, Message
from chatserver.queries import search
from tests.chatserver.leads_support import api, login, make_lead, number_of
from tests.conftest import SENDER_NUMBER, fictional_number, require_or_skip

pytestmark = pytest.mark.django_db


def text(lead, body):
    return actions.receive_inbound(
        InboundMessage(
            carrier="simulator",
            carrier_message_id=f"SM{uuid.uuid4().hex}",
            from_number=number_of(lead),
            to_number=SENDER_NUMBER,
            body=body,
        )
    )


@pytest.fixture
def people(org, sender, make_agent):
    owner = make_agent("owner", access="mine", first_name="Olga")
    other = make_agent("other", access="mine", first_name="Otis")
    admin = make_agent("admin", access="all")
    mine = make_lead(org, "Dana Whitfield", assignee=owner, number="+14155550123")
    theirs = make_lead(org, "Dana Scully", assignee=other, number="+12125550142")
    text(mine, "There is a roof leak over the garage")
    text(theirs, "Roof leaking again, and the gutters overflow")
    return owner, other, admin, mine, theirs


def found(agent, q):
    status, answer = api(login(agent), "GET", "/api/search", {"q": q})
    assert status == 200, answer
    return (
        {item["name"] for item in answer["leads"]},
        [m["body"] for m in answer["messages"]],
    )


def test_search_finds_only_what_the_agent_may_see(people):
    owner, other, admin, mine, theirs = people
    assert found(owner, "dana") == (
        {"Dana Whitfield"},
        [],
    )
    assert found(admin, "dana")[0] == {"Dana Whitfield", "Dana Scully"}
    assert found(owner, "roof") == (set(), ["There is a roof leak over the garage"])
    assert found(other, "roof")[1] == ["Roof leaking again, and the gutters overflow"]
    assert len(found(admin, "roof")[1]) == 2
    assert found(owner, "gutters") == (set(), [])  # only in the lead she cannot see


def test_search_by_name_prefix_contact_and_number(people, org):
    owner, other, admin, mine, theirs = people
    assert found(admin, "dan whit")[0] == {"Dana Whitfield"}
    assert found(admin, "WHITFIELD")[0] == {"Dana Whitfield"}
    assert found(admin, "0123")[0] == {"Dana Whitfield"}  # the last digits
    assert found(admin, "(212) 555-0142")[0] == {"Dana Scully"}  # as people type it
    # The contact's name finds a lead named otherwise.
    renamed = make_lead(org, "Quote 4471", number="+13125550177")
    contact = renamed.contacts.get()
    contact.first_name, contact.last_name = "Priya", "Natarajan"
    contact.save()
    assert found(admin, "natara")[0] == {"Quote 4471"}
    # Every word must match, each as a prefix.
    assert found(admin, "roof garage")[1] == ["There is a roof leak over the garage"]
    assert found(admin, "roof basement") == (set(), [])


def test_search_syntax_in_a_query_is_only_text(people):
    owner, other, admin, mine, theirs = people
    for query in ["dana & !", "dana:*|", "'dana'", "whit) | (scully", "%", "_", "\\"]:
        status, answer = api(login(admin), "GET", "/api/search", {"q": query})
        assert status == 200, (query, answer)
    assert found(admin, "whit) | (scully")[0] == set()  # both words, as words
    status, answer = api(login(admin), "GET", "/api/search", {"q": "  "})
    assert status == 400 and "Type something" in answer["error"]["reason"]


def test_the_lead_list_filters_by_text_within_a_bucket(people):
    owner, other, admin, mine, theirs = people
    status, page = api(
        login(admin), "GET", "/api/leads", {"bucket": "assigned", "q": "dana"}
    )
    assert {item["name"] for item in page["leads"]} == {"Dana Whitfield", "Dana Scully"}
    status, page = api(login(owner), "GET", "/api/leads", {"q": "scully"})
    assert page["leads"] == []


def test_postgresql_searches_through_the_full_text_indexes(people):
    if connection.vendor != "postgresql":
        require_or_skip("DATABASE_URL does not name a PostgreSQL database")
    owner, other, admin, mine, theirs = people
    plans = {}
    # The expressions search builds are those indexed (bench/search.py
    # measures the plans on a large database).
    queries = {
        "message_body_search": search.text_match(
            Message.objects.all(), ("body",), ["roof"]
        ),
        "lead_name_search": search.text_match(Lead.objects.all(), ("name",), ["dana"]),
        "contact_name_search": search.text_match(
            Contact.objects.all(), ("first_name", "last_name"), ["dana"]
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # On a tiny table the primary key's index looks as cheap as any: leave
        # the planner only the bitmap scans the search indexes offer.
        cursor.execute("SET LOCAL enable_indexscan = off")
        for index, queryset in queries.items():
            plans[index] = queryset.explain()
    for index, plan in plans.items():
        assert index in plan, plan


def make_leads(org, owner, count):
    for n in range(count):
        lead = make_lead(
            org,
            f"Roof Lead {n}",
            assignee=owner if n % 2 else None,
            number=fictional_number(),
        )
        text(lead, f"roof question number {n}")


def count_queries(client, path, params):
    with CaptureQueriesContext(connection) as queries:
        status, answer = api(client, "GET", path, params)
    assert status == 200, answer
    return len(queries), answer


ENDPOINTS = [
    ("/api/leads", {}, "leads"),
    ("/api/leads", {"bucket": "mine"}, "leads"),
    ("/api/leads", {"q": "roof"}, "leads"),
    ("/api/search", {"q": "roof"}, "messages"),
]


def test_list_and_search_query_counts_stay_flat_as_rows_grow(org, sender, make_agent):
    owner = make_agent("owner", access="all")
    client = login(owner)
    make_leads(org, owner, 10)
    small = {}
    for path, params, size in ENDPOINTS:
        small[path, str(params)], answer = count_queries(
            client, path, {**params, "limit": 200}
        )
        assert len(answer[size]) >= 5
    make_leads(org, owner, 90)
    for path, params, size in ENDPOINTS:
        large, answer = count_queries(client, path, {**params, "limit": 200})
        assert len(answer[size]) > 10
        assert large == small[path, str(params)], (path, params)


def test_the_lead_list_pages_and_refuses_bad_parameters(org, sender, make_agent):
    agent = make_agent("pager", access="all")
    made = [make_lead(org, f"Page Lead {n}") for n in range(5)]
    client = login(agent)
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        status, page = api(client, "GET", "/api/leads", params)
        assert status == 200 and len(page["leads"]) <= 2
        seen += [item["id"] for item in page["leads"]]
        after = page["next"]
        if after is None:
            break
    assert seen == [lead.id for lead in reversed(made)]  # most recent first, once
    for params, reason in [
        ({"bucket": "mine-ish"}, "Unknown bucket 'mine-ish'"),
        ({"limit": "0"}, "'limit' must be a number from 1 to 200."),
        ({"limit": "ten"}, "'limit' must be a number from 1 to 200."),
        ({"after": "yesterday|3"}, "'after' must be the 'next' of a previous page."),
        ({"after": "2025-01-01T00:00:00|x"}, "'after' must be the 'next'"),
    ]:
        status, answer = api(client, "GET", "/api/leads", params)
        assert status == 400 and reason in answer["error"]["reason"], (params, answer)


def search_api(agent, **params):
    status, answer = api(login(agent), "GET", "/api/search", params)
    assert status == 200, answer
    return answer


def test_search_counts_every_bucket_and_narrows_to_one(people, org, make_agent):
    owner, other, admin, mine, theirs = people
    nobodys = make_lead(org, "Gus Gutter", number="+13125550170")
    text(nobodys, "gutters again")
    closed = make_lead(org, "Cleo Closed", assignee=admin, number="+13125550171")
    text(closed, "the gutters were fixed, thanks")
    actions.close_lead(closed, admin)
    answer = search_api(admin, q="gutter")
    assert answer["counts"] == {
        "unassigned": {"leads": 1, "messages": 1},  # Gus's name, and his text
        "mine": {"leads": 0, "messages": 0},
        "assigned": {"leads": 0, "messages": 1},  # Dana Scully's text
        "closed": {"leads": 0, "messages": 1},
    }
    # Each found thing says its bucket; one bucket lists only its own.
    assert {m["bucket"] for m in answer["messages"]} == {
        "unassigned",
        "assigned",
        "closed",
    }
    narrowed = search_api(admin, q="gutter", bucket="closed")
    assert [m["body"] for m in narrowed["messages"]] == [
        "the gutters were fixed, thanks"
    ]
    assert narrowed["leads"] == [] and narrowed["counts"] == answer["counts"]
    # Counts cover only what the agent may see.
    assert search_api(owner, q="gutter")["counts"]["assigned"] == {
        "leads": 0,
        "messages": 0,
    }


def test_search_marks_the_words_found_in_snippets_and_names(people):
    owner, other, admin, mine, theirs = people
    answer = search_api(admin, q="leak whit")
    assert answer["leads"] == []  # no lead matches both words
    answer = search_api(admin, q="leak")
    [message] = [m for m in answer["messages"] if m["lead"] == mine.id]
    assert message["snippet"] == [
        ["There is a roof ", False],
        ["leak", True],
        [" over the garage", False],
    ]
    assert message["contact_number"] == number_of(mine)
    assert message["number_kind"] == "primary"
    assert message["lead_name"] == "Dana Whitfield"
    [lead] = search_api(admin, q="whit")["leads"]
    assert lead["name_parts"] == [["Dana ", False], ["Whitfield", True]]
    assert lead["bucket"] == "assigned"


def test_search_by_category_with_or_without_words(people, org, authorized):
    from chatserver.models import MessageCategory

    owner, other, admin, mine, theirs = people
    quote = MessageCategory.objects.create(organisation=org, name="Quote")
    authorized(number_of(mine))
    conversation = mine.conversations.get()
    actions.send_message(
        owner, conversation, "Your roof quote: 9,400 dollars", category_id=quote.id
    )
    actions.send_message(owner, conversation, "Is the roof dry now?")
    answer = search_api(owner, category=quote.id)
    assert [m["body"] for m in answer["messages"]][0].endswith("9,400 dollars")
    assert len(answer["messages"]) == 1 and answer["leads"] == []
    assert answer["messages"][0]["category"] == quote.id
    assert len(search_api(owner, q="roof")["messages"]) == 3
    assert len(search_api(owner, q="roof", category=quote.id)["messages"]) == 1
    # Another organisation's category is not found; bad values are refused.
    rival = actions.add_organisation("Rival Roofing")
    theirs_category = MessageCategory.objects.create(organisation=rival, name="Quote")
    for params, status in (
        ({"category": theirs_category.id}, 404),
        ({"category": "x"}, 400),
        ({"q": "roof", "bucket": "everything"}, 400),
        ({"q": "roof", "limit": "0"}, 400),
    ):
        assert api(login(owner), "GET", "/api/search", params)[0] == status, params


def test_a_number_typed_without_a_country_code_is_read_in_the_teams_region(
    people, org
):
    from chatserver.models import ContactNumber

    owner, other, admin, mine, theirs = people
    london = make_lead(org, "Lola London")
    # Her office (Ofcom's range for drama: fictional).
    ContactNumber.objects.create(
        organisation=org, contact=london.contacts.get(), number="+442079460958"
    )
    assert found(admin, "020 7946 0958")[0] == set()  # read as a US number
    org.region = "GB"
    org.save()
    assert found(admin, "020 7946 0958")[0] == {"Lola London"}
