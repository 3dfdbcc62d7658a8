"""Every JSON API route and every socket action, tried with ids that are not
the caller's: another organisation's, and (in the same organisation) a lead
only another agent may see.

Each probe must answer exactly as for an id that does not exist (so ids
cannot be probed), leak nothing of the hidden lead, and change no row. The
routes come from ``chatserver.urls`` itself: a new route without a probe here
fails ``test_every_route_is_probed_or_accounted_for``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from carriers import phone_network
from chatserver import actions
from chatserver.actions import followups
from chatserver.models import (
    Agent,
    Enrollment,
    FollowUp,
    KeywordRule,
    MessageCategory,
    Note,
    SenderNumber,
    Template,
    Workflow,
)
from consumers.console import ConsoleConsumer
from tests.chatserver.leads_support import make_lead, number_of
from tests.consumers.console_support import connect
from tests.security.webhook_fuzz_support import row_counts

LEAD_SECRET = "Quillfeather"  # in everything of the hidden lead
ORG_SECRET = "Brightwater"  # in the first organisation's own names
MISSING = 987_654_321
VICTIM_NUMBER = "+14155550177"
# A time a follow-up may be due or snoozed until.
FUTURE = (
    datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
).isoformat()


def routes() -> list[str]:
    """Every HTTP route, as written in the URLconf ("api/leads/<int:lead_id>")."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns))


@dataclass
class Scene:
    """What a probe may name: the hidden lead's ids, and the caller's own."""

    lead: int
    conversation: int
    message: int
    contact: int
    number: str
    own_lead: int
    own_contact: int
    # An agent of the victim's organisation, when that is not the caller's.
    foreign_agent: int | None
    foreign_category: int | None
    foreign_template: int | None
    foreign_rule: int | None
    foreign_number: int | None
    me: int
    # The hidden lead's follow-up and workflow enrollment; the victim
    # organisation's workflow (another's, when that is not the caller's).
    followup: int = 0
    enrollment: int = 0
    workflow: int = 0
    foreign_workflow: int | None = None


# Route -> the requests that name the hidden lead's things, each of which
# must answer as for a missing id.
PROBES = {
    "api/conversations/<int:conversation_id>": lambda s: [
        ("GET", f"/api/conversations/{s.conversation}", None)
    ],
    "api/conversations/<int:conversation_id>/messages": lambda s: [
        ("GET", f"/api/conversations/{s.conversation}/messages", None),
        (
            "POST",
            f"/api/conversations/{s.conversation}/messages",
            {"body": "Hi", "client_id": str(uuid.uuid4())},
        ),
    ],
    "api/conversations/<int:conversation_id>/authorization-request": lambda s: [
        ("POST", f"/api/conversations/{s.conversation}/authorization-request", {})
    ],
    "api/conversations/<int:conversation_id>/close": lambda s: [
        ("POST", f"/api/conversations/{s.conversation}/close", {})
    ],
    "api/conversations/<int:conversation_id>/reopen": lambda s: [
        ("POST", f"/api/conversations/{s.conversation}/reopen", {})
    ],
    "api/messages/<int:message_id>/resend": lambda s: [
        ("POST", f"/api/messages/{s.message}/resend", {"client_id": str(uuid.uuid4())})
    ],
    "api/messages/<int:message_id>/reschedule": lambda s: [
        ("POST", f"/api/messages/{s.message}/reschedule", {"body": "Hi"}),
        (
            "POST",
            f"/api/messages/{s.message}/reschedule",
            {"send_at": "2099-01-01T09:00:00Z"},
        ),
    ],
    "api/messages/<int:message_id>/cancel": lambda s: [
        ("POST", f"/api/messages/{s.message}/cancel", {})
    ],
    "api/messages/<int:message_id>/dismiss-optout": lambda s: [
        ("POST", f"/api/messages/{s.message}/dismiss-optout", {})
    ],
    "api/messages/<int:message_id>/confirm-optout": lambda s: [
        ("POST", f"/api/messages/{s.message}/confirm-optout", {})
    ],
    "api/conversations/<int:conversation_id>/phone-optout": lambda s: [
        ("POST", f"/api/conversations/{s.conversation}/phone-optout", {"note": "x"})
    ],
    # A rule of her own answering with another's template; another's rules.
    "api/keyword-rules": lambda s: (
        [("POST", "/api/keyword-rules", {"keyword": "Q", "template": s.foreign_template})]
        if s.foreign_template
        else []
    ),
    "api/business-hours/<int:number_id>": lambda s: (
        [
            ("POST", f"/api/business-hours/{s.foreign_number}", {"days": "12345"}),
            ("DELETE", f"/api/business-hours/{s.foreign_number}", None),
        ]
        if s.foreign_number
        else []
    ),
    "api/keyword-rules/<int:rule_id>": lambda s: (
        [
            ("POST", f"/api/keyword-rules/{s.foreign_rule}",
             {"keyword": "Q", "template": s.foreign_template}),
            ("DELETE", f"/api/keyword-rules/{s.foreign_rule}", None),
        ]
        if s.foreign_rule
        else []
    ),
    "api/leads": lambda s: (
        [
            # The caller's own new lead, given to someone of the other organisation
            # or filed under its category.
            (
                "POST",
                "/api/leads",
                {
                    "first_name": "Ned",
                    "number": "+12125550142",
                    "assignee": s.foreign_agent,
                },
            ),
            (
                "POST",
                "/api/leads",
                {
                    "first_name": "Ned",
                    "number": "+12125550143",
                    "body": "Hi",
                    "category": s.foreign_category,
                },
            ),
        ]
        if s.foreign_agent
        else []
    ),
    "api/leads/<int:lead_id>": lambda s: [("GET", f"/api/leads/{s.lead}", None)],
    "api/leads/<int:lead_id>/assign": lambda s: (
        [
            ("POST", f"/api/leads/{s.lead}/assign", {"agent": s.me}),
            ("POST", f"/api/leads/{s.lead}/assign", {"agent": None}),
        ]
        + (
            [("POST", f"/api/leads/{s.own_lead}/assign", {"agent": s.foreign_agent})]
            if s.foreign_agent
            else []
        )
    ),
    "api/leads/<int:lead_id>/close": lambda s: [
        ("POST", f"/api/leads/{s.lead}/close", {})
    ],
    "api/leads/<int:lead_id>/reopen": lambda s: [
        ("POST", f"/api/leads/{s.lead}/reopen", {})
    ],
    "api/leads/<int:lead_id>/share": lambda s: (
        [("POST", f"/api/leads/{s.lead}/share", {"agent": s.me})]
        + (
            [("POST", f"/api/leads/{s.own_lead}/share", {"agent": s.foreign_agent})]
            if s.foreign_agent
            else []
        )
    ),
    "api/leads/<int:lead_id>/unshare": lambda s: [
        ("POST", f"/api/leads/{s.lead}/unshare", {"agent": s.me})
    ],
    "api/leads/<int:lead_id>/notes": lambda s: [
        ("GET", f"/api/leads/{s.lead}/notes", None),
        ("POST", f"/api/leads/{s.lead}/notes", {"body": "Hello"}),
    ],
    "api/leads/<int:lead_id>/contacts": lambda s: [
        ("POST", f"/api/leads/{s.lead}/contacts", {"first_name": "Eve"})
    ],
    "api/leads/<int:lead_id>/contacts/<int:contact_id>": lambda s: [
        ("POST", f"/api/leads/{s.lead}/contacts/{s.contact}", {"first_name": "Eve"}),
        # The caller's own lead, with the hidden lead's contact.
        (
            "POST",
            f"/api/leads/{s.own_lead}/contacts/{s.contact}",
            {"first_name": "Eve"},
        ),
    ],
    "api/leads/<int:lead_id>/contacts/<int:contact_id>/numbers": lambda s: [
        (
            "POST",
            f"/api/leads/{s.lead}/contacts/{s.contact}/numbers",
            {"number": "+12125550144"},
        ),
        # The caller's own lead, with the hidden lead's contact.
        (
            "POST",
            f"/api/leads/{s.own_lead}/contacts/{s.contact}/numbers",
            {"number": "+12125550145"},
        ),
    ],
    "api/leads/<int:lead_id>/conversations": lambda s: [
        ("POST", f"/api/leads/{s.lead}/conversations", {"number": s.number}),
        # The caller's own lead, with the hidden lead's number.
        ("POST", f"/api/leads/{s.own_lead}/conversations", {"number": s.number}),
    ],
    "api/templates": lambda s: [
        ("GET", f"/api/templates?lead={s.lead}", None),
        ("GET", f"/api/templates?conversation={s.conversation}", None),
    ]
    + (
        # A new template of her own, filed under another's category.
        [
            (
                "POST",
                "/api/templates",
                {"name": "X", "body": "Y", "category": s.foreign_category},
            )
        ]
        if s.foreign_category
        else []
    ),
    # Another organisation's saved replies (an admin's own are hers to change).
    "api/templates/<int:template_id>": lambda s: (
        [
            ("POST", f"/api/templates/{s.foreign_template}", {"name": "X", "body": "Y"}),
            ("DELETE", f"/api/templates/{s.foreign_template}", None),
        ]
        if s.foreign_template
        else []
    ),
    "api/categories": lambda s: [],  # creates in the caller's own organisation
    "api/categories/<int:category_id>": lambda s: (
        [
            ("POST", f"/api/categories/{s.foreign_category}", {"name": "X"}),
            ("DELETE", f"/api/categories/{s.foreign_category}", None),
        ]
        if s.foreign_category
        else []
    ),
    "api/conversations/<int:conversation_id>/mms": lambda s: [
        ("POST", f"/api/conversations/{s.conversation}/mms", {"body": "Hi"})
    ],
    "api/leads/<int:lead_id>/followups": lambda s: [
        ("POST", f"/api/leads/{s.lead}/followups", {"due_at": FUTURE, "note": "X"})
    ],
    "api/followups/<int:followup_id>": lambda s: [
        ("DELETE", f"/api/followups/{s.followup}", None)
    ],
    "api/followups/<int:followup_id>/done": lambda s: [
        ("POST", f"/api/followups/{s.followup}/done", {})
    ],
    "api/followups/<int:followup_id>/snooze": lambda s: [
        ("POST", f"/api/followups/{s.followup}/snooze", {"until": FUTURE})
    ],
    "api/conversations/<int:conversation_id>/workflows": lambda s: [
        (
            "POST",
            f"/api/conversations/{s.conversation}/workflows",
            {"workflow": s.workflow},
        )
    ],
    "api/enrollments/<int:enrollment_id>/stop": lambda s: [
        ("POST", f"/api/enrollments/{s.enrollment}/stop", {})
    ],
    "api/workflows": lambda s: [],  # creates in the caller's own organisation
    # Another organisation's workflows (an admin's own are hers to change).
    "api/workflows/<int:workflow_id>": lambda s: (
        [
            (
                "POST",
                f"/api/workflows/{s.foreign_workflow}",
                {"name": "X"},
            ),
            ("DELETE", f"/api/workflows/{s.foreign_workflow}", None),
        ]
        if s.foreign_workflow
        else []
    ),
}

# Routes that list what the caller may see: probed for leaks, not ids.
LISTS = {
    "api/state": "/api/state",
    "api/leads": "/api/leads",
    "api/search": f"/api/search?q={LEAD_SECRET}",
    "api/templates": "/api/templates",
    "api/keyword-rules": "/api/keyword-rules",
    "api/business-hours": "/api/business-hours",
    "api/agents": "/api/agents",
    "api/workflows": "/api/workflows",
    "api/reports/engagements": "/api/reports/engagements",
}

# Every other route, and what keeps it to its own people.
ACCOUNTED_FOR = {
    "": "the console page: login required (test_browser_policy.py)",
    "healthz": "public, and says only 'ok'",
    "metrics": "operators only: a token and/or an address, 404 with neither, "
    "never a login (tests/operations/test_metrics.py)",
    "accounts/": "Django's sign-in pages; throttled (test_login_throttle.py)",
    "admin/": "Django's admin: staff only (test_browser_policy.py)",
    "simulator/": "staff only, scoped to their organisation (below)",
    "carriers/<str:carrier>/<str:kind>": "signed webhooks (test_webhook_fuzz.py)",
    "attachments/<int:attachment_id>": "images: probed in tests/mms/"
    "test_mms_permissions.py (404 hidden, 403 images off)",
    r"^mms/(?P<token>[0-9]+:[0-9A-Za-z]+:[-_0-9A-Za-z]+)\.(?P<ext>[a-z]+)$": (
        "carriers' signed image URLs (tests/mms/test_mms_outbound.py)"
    ),
}


def test_every_route_is_probed_or_accounted_for():
    known = set(PROBES) | set(LISTS)
    unprobed = []
    for route in routes():
        if route in known or route in ACCOUNTED_FOR:
            continue
        if any(p.endswith("/") and route.startswith(p) for p in ACCOUNTED_FOR):
            continue
        unprobed.append(route)
    assert unprobed == [], "routes nobody probes for access: add them above"
    stale = known - set(routes())
    assert stale == set(), "probes of routes that no longer exist"


@pytest.fixture
def victim(org, sender, make_agent, text_in):
    """The first organisation: Carol's lead (hidden from Bob, who sees only
    his own), with a text, a note and a contact, all naming LEAD_SECRET."""
    carol = make_agent("carol", access="mine", first_name=ORG_SECRET)
    inbound = text_in(
        f"Hi, {LEAD_SECRET} here. STOP texting me please", from_number=VICTIM_NUMBER
    )
    conversation = inbound.conversation
    lead = conversation.lead
    lead.name = f"Dana {LEAD_SECRET}"
    lead.save()
    actions.assign_lead(lead, carol, actor=carol)
    actions.add_note(carol, lead, f"{LEAD_SECRET} prefers mornings")
    followups.set_followup(
        carol,
        lead,
        datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1),
        f"Call {LEAD_SECRET}",
    )
    workflow = Workflow.objects.create(organisation=org, name=ORG_SECRET)
    Enrollment.objects.create(
        organisation=org,
        workflow=workflow,
        workflow_name=ORG_SECRET,
        lead=lead,
        conversation=conversation,
        started_by=carol,
        started_at=datetime.datetime.now(datetime.timezone.utc),
    )
    category = MessageCategory.objects.create(organisation=org, name=ORG_SECRET)
    template = Template.objects.create(
        organisation=org, name=ORG_SECRET, body="Hi {org.name}", category=category
    )
    KeywordRule.objects.create(organisation=org, keyword="SECRET", template=template)
    return carol, lead, conversation, inbound, category, template


def scene_for(caller: Agent, own_lead, victim_data) -> Scene:
    carol, lead, conversation, inbound, category, template = victim_data
    other_org = caller.organisation_id != carol.organisation_id
    return Scene(
        lead=lead.id,
        conversation=conversation.id,
        message=inbound.id,
        contact=lead.contacts.get().id,
        number=number_of(lead),
        own_lead=own_lead.id,
        own_contact=own_lead.contacts.get().id,
        foreign_agent=carol.id if other_org else None,
        foreign_category=category.id if other_org else None,
        foreign_template=template.id if other_org else None,
        foreign_rule=(
            KeywordRule.objects.get(template=template).id if other_org else None
        ),
        foreign_number=(
            SenderNumber.objects.filter(organisation_id=carol.organisation_id)
            .first()
            .id
            if other_org
            else None
        ),
        me=caller.id,
        followup=FollowUp.objects.get(lead=lead).id,
        enrollment=Enrollment.objects.get(lead=lead).id,
        workflow=Workflow.objects.get(organisation=carol.organisation).id,
        foreign_workflow=(
            Workflow.objects.get(organisation=carol.organisation).id
            if other_org
            else None
        ),
    )


@pytest.fixture(params=["another organisation", "another agent"])
def intruder(request, org, make_agent, victim):
    """Mallory, an admin of another organisation with every lead of hers in
    view; or Bob, of the same organisation, who sees only his own leads."""
    if request.param == "another organisation":
        rival = actions.add_organisation("Rival Roofing")
        actions.add_number("+12125550100", "simulator", rival)
        caller = make_agent("mallory", access="all", organisation=rival, admin=True)
        own = make_lead(rival, "Mona Rival", assignee=caller, number="+12125550131")
    else:
        caller = make_agent("bob", access="mine")
        own = make_lead(org, "Ben Own", assignee=caller, number="+12125550132")
    return caller, scene_for(caller, own, victim)


def call(client: Client, method: str, path: str, data) -> tuple[int, bytes]:
    if method == "GET":
        response = client.get(path)
    else:
        body = json.dumps(data) if data is not None else ""
        response = client.generic(method, path, body, content_type="application/json")
    return response.status_code, response.content


# What a missing id is swapped in for, in every probe: the hidden lead's
# things and the victim organisation's. The caller's own ids stay.
HIDDEN_FIELDS = (
    "lead",
    "conversation",
    "message",
    "contact",
    "foreign_agent",
    "foreign_category",
    "foreign_template",
    "foreign_rule",
    "foreign_number",
    "followup",
    "enrollment",
    "foreign_workflow",
)


def as_missing(scene: Scene) -> Scene:
    """The scene with every hidden id missing. Probes are made again from it
    rather than their ids swapped by value: a caller's own id can equal a
    hidden one of another table."""
    swapped = {
        name: MISSING for name in HIDDEN_FIELDS if getattr(scene, name) is not None
    }
    return dataclasses.replace(scene, number="+12125550199", **swapped)


@pytest.mark.django_db
def test_api_routes_answer_as_for_missing_ids_and_change_nothing(intruder, victim):
    caller, scene = intruder
    client = Client()
    client.force_login(caller.user)
    before = row_counts()
    notes_before = Note.objects.count()
    probed = 0
    for route, make in PROBES.items():
        for (method, path, data), (_, missing_path, missing_data) in zip(
            make(scene), make(as_missing(scene)), strict=True
        ):
            status, body = call(client, method, path, data)
            text = body.decode(errors="replace")
            assert status == 404, (route, method, path, status, text)
            # The API's own JSON error, not an HTML page.
            assert json.loads(body)["error"]["code"] == "not_found", (route, text)
            assert LEAD_SECRET not in text and ORG_SECRET not in text
            assert missing_path != path or missing_data != data, (route, path)
            assert call(client, method, missing_path, missing_data) == (status, body), (
                "a hidden id answers unlike a missing one",
                route,
                path,
            )
            probed += 1
    assert probed >= 20
    assert row_counts() == before
    assert Note.objects.count() == notes_before
    lead_after = victim[1].__class__.objects.get(pk=scene.lead)
    assert lead_after.assignee_id == victim[0].id and lead_after.status == "open"


@pytest.mark.django_db
def test_api_lists_hold_nothing_hidden(intruder):
    caller, scene = intruder
    client = Client()
    client.force_login(caller.user)
    other_org = scene.foreign_agent is not None
    for route, path in LISTS.items():
        status, body = call(client, "GET", path, None)
        # (Search repeats the query it was given.)
        text = json.dumps({k: v for k, v in json.loads(body).items() if k != "q"})
        # The team's figures and keyword rules are for admins; everything
        # else is the caller's.
        assert status == 200 or (
            route
            in ("api/reports/engagements", "api/keyword-rules", "api/business-hours")
            and status == 403
        )
        assert LEAD_SECRET not in text, route
        assert str(scene.lead) not in re.findall(r'"lead": (\d+)', text)
        if other_org:
            assert ORG_SECRET not in text and "carol" not in text, route


@pytest.mark.django_db
def test_every_api_route_refuses_anonymous_callers_with_a_json_401(victim):
    carol, lead, conversation, inbound, category, template = victim
    client = Client()
    ids = {
        "lead_id": lead.id,
        "conversation_id": conversation.id,
        "message_id": inbound.id,
        "contact_id": lead.contacts.get().id,
        "template_id": template.id,
        "category_id": category.id,
        "rule_id": KeywordRule.objects.get(template=template).id,
        "number_id": SenderNumber.objects.filter(organisation=carol.organisation)
        .first()
        .id,
        "followup_id": FollowUp.objects.get(lead=lead).id,
        "enrollment_id": Enrollment.objects.get(lead=lead).id,
        "workflow_id": Workflow.objects.get(organisation=carol.organisation).id,
    }
    for route in routes():
        if not route.startswith("api/"):
            continue
        path = "/" + re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), route)
        for method in ("GET", "POST"):
            status, body = call(client, method, path, {})
            if status == 405:
                continue
            assert status == 401, (method, path, status)
            assert json.loads(body)["error"]["code"] == "unauthenticated"
            assert LEAD_SECRET not in body.decode()


# Client message type -> frames naming the hidden lead's things, each of
# which must be "not found". ``resume`` is probed on its own below.
SOCKET_PROBES = {
    "message.send": lambda s: [
        {"conversation": s.conversation, "body": "Hi", "client_id": str(uuid.uuid4())}
    ],
    "message.resend": lambda s: [
        {"message": s.message, "client_id": str(uuid.uuid4())}
    ],
    "message.reschedule": lambda s: [{"message": s.message, "body": "Hi"}],
    "message.cancel": lambda s: [{"message": s.message}],
    "consent.request": lambda s: [{"conversation": s.conversation}],
    "consent.confirm_optout": lambda s: [{"message": s.message}],
    "consent.dismiss_optout": lambda s: [{"message": s.message}],
    "consent.phone_optout": lambda s: [{"conversation": s.conversation, "note": "x"}],
    "conversation.read": lambda s: [
        {"conversation": s.conversation, "message": s.message}
    ],
    "resume": None,
    "presence": lambda s: [{"conversation": s.conversation, "state": "viewing"}],
    "lead.assign": lambda s: (
        [{"lead": s.lead, "agent": s.me}]
        + ([{"lead": s.own_lead, "agent": s.foreign_agent}] if s.foreign_agent else [])
    ),
    "lead.close": lambda s: [{"lead": s.lead}],
    "lead.reopen": lambda s: [{"lead": s.lead}],
    "lead.share": lambda s: (
        [{"lead": s.lead, "agent": s.me}]
        + ([{"lead": s.own_lead, "agent": s.foreign_agent}] if s.foreign_agent else [])
    ),
    "lead.unshare": lambda s: [{"lead": s.lead, "agent": s.me}],
    "lead.create": lambda s: (
        [
            {
                "first_name": "Ned",
                "number": "+12125550146",
                "assignee": s.foreign_agent,
            },
            {
                "first_name": "Ned",
                "number": "+12125550147",
                "body": "Hi",
                "category": s.foreign_category,
            },
        ]
        if s.foreign_agent
        else []
    ),
    "lead.add_contact": lambda s: [{"lead": s.lead, "first_name": "Eve"}],
    "lead.add_number": lambda s: [
        {"lead": s.lead, "contact": s.contact, "number": "+12125550148"},
        {"lead": s.own_lead, "contact": s.contact, "number": "+12125550149"},
    ],
    "lead.update_contact": lambda s: [
        {"lead": s.lead, "contact": s.contact, "last_name": "Renamed"},
        {"lead": s.own_lead, "contact": s.contact, "last_name": "Renamed"},
    ],
    "lead.open_conversation": lambda s: [
        {"lead": s.lead, "number": s.number},
        {"lead": s.own_lead, "number": s.number},
    ],
    "conversation.close": lambda s: [{"conversation": s.conversation}],
    "conversation.reopen": lambda s: [{"conversation": s.conversation}],
    "note.add": lambda s: [{"lead": s.lead, "body": "Hello"}],
    "followup.set": lambda s: [{"lead": s.lead, "due_at": FUTURE}],
    "followup.done": lambda s: [{"followup": s.followup}],
    "followup.snooze": lambda s: [{"followup": s.followup, "until": FUTURE}],
    "followup.delete": lambda s: [{"followup": s.followup}],
    "workflow.attach": lambda s: [
        {"conversation": s.conversation, "workflow": s.workflow}
    ],
    "workflow.stop": lambda s: [{"enrollment": s.enrollment}],
}


def test_every_socket_action_is_probed():
    assert set(SOCKET_PROBES) == set(ConsoleConsumer.handlers)


@pytest.mark.django_db(transaction=True)
async def test_socket_actions_answer_not_found_and_change_nothing(intruder, victim):
    from channels.db import database_sync_to_async

    caller, scene = intruder
    before = await database_sync_to_async(row_counts)()
    console = await connect(caller)
    assert LEAD_SECRET not in json.dumps(console.hello)
    probed = 0
    for kind, make in SOCKET_PROBES.items():
        for number, fields in enumerate(make(scene) if make else []):
            client_id = fields.get("client_id") or f"probe-{kind}-{number}"
            await console.send(**{"client_id": client_id, **fields, "type": kind})
            error = await console.until("error", client_id=client_id)
            assert error["code"] == "not_found", (kind, fields, error)
            assert LEAD_SECRET not in json.dumps(error)
            probed += 1
    assert probed >= 17
    # Replaying from the very start gives nothing of the hidden lead.
    await console.send(type="resume", cursor=0)
    replay = []
    while (frame := await console.next())["type"] != "resumed":
        replay.append(frame)
    assert LEAD_SECRET not in json.dumps(replay)
    assert all(f.get("lead") != scene.lead for f in replay)
    await console.close()
    assert await database_sync_to_async(row_counts)() == before


@pytest.mark.django_db
def test_the_simulator_shows_staff_only_their_own_organisations_phones(
    settings, tmp_path, org, sender, make_agent, victim
):
    settings.SIMULATOR_DIR = tmp_path / "simulator"
    _, lead, *_ = victim
    phone = number_of(lead)
    phone_network.network().add_message(
        phone_network.FROM_PHONE,
        phone,
        sender.number,
        f"{LEAD_SECRET} texting",
        "delivered",
    )
    rival = actions.add_organisation("Rival Roofing")
    actions.add_number("+12125550100", "simulator", rival)
    mallory = make_agent("mallory", access="all", organisation=rival, admin=True)
    bob = make_agent("bob", access="mine")  # not staff
    own_admin = make_agent("olive", access="all", admin=True)

    def pages(agent):
        client = Client()
        client.force_login(agent.user)
        return (
            client.get("/simulator/", {"phone": phone}),
            client.get("/simulator/state", {"phone": phone}),
        )

    page, state = pages(mallory)
    assert page.status_code == state.status_code == 200
    assert LEAD_SECRET not in page.content.decode() + state.content.decode()
    assert state.json()["messages"] == []
    assert all(r.status_code == 403 for r in pages(bob))
    page, state = pages(own_admin)
    assert LEAD_SECRET in state.content.decode()
    # The rival cannot text or switch modes on our company number either.
    client = Client()
    client.force_login(mallory.user)
    response = client.post(
        "/simulator/text", {"phone": phone, "company": sender.number, "body": "Hi"}
    )
    assert response.status_code == 400
