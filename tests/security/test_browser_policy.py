"""What the browser is told: a content security policy without inline script
on every page, CSRF on every form and JSON write, and whatever leads and
agents wrote shown as text on every page, the admin's included."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from carriers import phone_network
from chatserver import actions
from chatserver.models import (
    Event,
    KeywordRule,
    Lead,
    Message,
    MessageCategory,
    Note,
    Organisation,
    SenderNumber,
    Template,
)
from tests.chatserver.followup_support import followup_ids
from tests.chatserver.leads_support import make_lead
from tests.security.test_access_probes import routes
from tests.servers import ROOT

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


class PageParts(HTMLParser):
    """The parts of a page a content security policy cares about."""

    def __init__(self):
        super().__init__()
        self.inline_scripts = 0
        self.style_attributes = []
        self.handler_attributes = []
        self.script_sources = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if "src" in attrs:
                self.script_sources.append(attrs["src"])
            # A JSON data block is never run: not a script.
            elif attrs.get("type") not in ("application/json", "application/ld+json"):
                self.inline_scripts += 1
        for name in attrs:
            if name == "style":
                self.style_attributes.append(tag)
            if name.startswith("on"):
                self.handler_attributes.append(f"{tag} {name}")


def parts(html: str) -> PageParts:
    parser = PageParts()
    parser.feed(html)
    return parser


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = {}
    for item in header.split(";"):
        words = item.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture
def staff(org, sender, make_agent, text_in, settings, tmp_path):
    """An admin agent, and data of every kind carrying hostile markup."""
    settings.SIMULATOR_DIR = tmp_path / "simulator"
    olive = make_agent("olive", access="all", admin=True, first_name=HOSTILE)
    inbound = text_in(HOSTILE, from_number="+14155550177")
    lead = inbound.conversation.lead
    lead.name = HOSTILE
    lead.save()
    actions.add_note(olive, lead, HOSTILE)
    phone_network.network().add_message(
        phone_network.FROM_PHONE, "+14155550177", sender.number, HOSTILE, "delivered"
    )
    client = Client()
    client.force_login(olive.user)
    return olive, client, inbound


def html_pages(inbound) -> list[str]:
    """Every HTML page there is: each parameterless non-API route, and the
    admin's list, add and change pages of every model."""
    pages = []
    for route in routes():
        if route.startswith(("api/", "carriers/", "admin/")) or "<" in route:
            continue
        if "(" in route or "^" in route:
            continue
        pages.append("/" + route)
    pages.append("/simulator/?phone=%2B14155550177")
    pages.append("/admin/")
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            name = f"admin:{meta.app_label}_{meta.model_name}_change"
            pages.append(reverse(name, args=[first.pk]))
    return pages


def test_every_html_page_has_a_policy_without_inline_script(staff):
    _, client, inbound = staff
    checked = 0
    for path in html_pages(inbound):
        response = client.get(path)
        if response.status_code in (301, 302, 403, 404, 405):
            continue
        assert response.status_code == 200, (path, response.status_code)
        if not response["Content-Type"].startswith("text/html"):
            continue
        rules = policy(response)
        scripts = rules.get("script-src", rules.get("default-src"))
        assert scripts == ["'self'"], (path, scripts)
        assert rules.get("object-src") == ["'none'"] or path.startswith("/admin/")
        assert rules.get("frame-ancestors") in (["'none'"], ["'self'"]), path
        page = parts(response.content.decode())
        assert page.inline_scripts == 0, path
        assert page.handler_attributes == [], (path, page.handler_attributes)
        if not path.startswith("/admin/"):
            # Our own pages style from stylesheets only.
            assert rules["style-src"] == ["'self'"], path
            assert page.style_attributes == [], (path, page.style_attributes)
        checked += 1
    assert checked >= 30


def test_the_console_page_is_modules_and_stylesheets_only(staff):
    _, client, _ = staff
    response = client.get("/")
    page = parts(response.content.decode())
    assert page.inline_scripts == 0 and page.style_attributes == []
    assert page.script_sources and all(
        src.startswith("/static/") for src in page.script_sources
    )
    html = response.content.decode()
    assert re.search(r'<script type="module" src="/static/console/js/app\.js">', html)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_browser_code_never_parses_text_as_html():
    """The console and simulator scripts build the DOM from text: no
    innerHTML and the like anywhere, so a message can never become markup."""
    forbidden = re.compile(
        r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write"
        r"|\beval\s*\(|new Function\s*\(|createContextualFragment|DOMParser"
    )
    scripts = sorted((ROOT / "static").rglob("*.js"))
    assert scripts
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in scripts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []


def test_messages_and_names_are_shown_as_text_in_the_admin_and_simulator(staff):
    olive, client, inbound = staff
    lead = inbound.conversation.lead
    note = Note.objects.get(lead=lead)
    event = Event.objects.filter(type="message.created").first()
    pages = [
        reverse("admin:chatserver_message_changelist"),
        reverse("admin:chatserver_message_change", args=[inbound.pk]),
        reverse("admin:chatserver_lead_changelist"),
        reverse("admin:chatserver_lead_change", args=[lead.pk]),
        reverse("admin:chatserver_note_change", args=[note.pk]),
        reverse("admin:chatserver_event_change", args=[event.pk]),
        reverse("admin:chatserver_conversation_changelist"),
        reverse("admin:chatserver_agent_changelist"),
        "/simulator/?phone=%2B14155550177",
        "/",
    ]
    for path in pages:
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 200, path
        assert HOSTILE not in html, path
        assert "<img src=x" not in html, path
        page = parts(html)
        assert page.inline_scripts == 0 and page.handler_attributes == [], path
    # The text itself is there, escaped, where a page shows it.
    shown = client.get(reverse("admin:chatserver_message_change", args=[inbound.pk]))
    assert ESCAPED in shown.content.decode()
    shown = client.get("/simulator/?phone=%2B14155550177")
    assert ESCAPED in shown.content.decode()


def test_the_json_api_sends_text_as_json_never_as_html(staff):
    _, client, inbound = staff
    response = client.get(f"/api/conversations/{inbound.conversation_id}/messages")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert json.loads(response.content)["messages"][0]["body"] == HOSTILE


def test_a_hostile_next_parameter_is_escaped_on_the_login_page():
    response = Client().get("/accounts/login/", {"next": '"><script>alert(1)</script>'})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()
    assert parts(response.content.decode()).inline_scripts == 0


def write_requests(staff_data, org) -> list[tuple[str, dict | str]]:
    """A POST to every route that takes one (but the signed webhooks), with
    real ids, so only the CSRF check can stop it."""
    olive, _, inbound = staff_data
    own = make_lead(org, "Ned Own", assignee=olive, number="+14155550178")
    ids = {
        "lead_id": own.id,
        "conversation_id": inbound.conversation_id,
        "message_id": inbound.id,
        "contact_id": own.contacts.get().id,
        "attachment_id": inbound.id,  # images take no POST
        "template_id": Template.objects.create(
            organisation=org, name="Hi", body="Hello"
        ).id,
        "category_id": MessageCategory.objects.create(organisation=org, name="Q").id,
        "number_id": SenderNumber.objects.filter(organisation=org).first().id,
        "rule_id": KeywordRule.objects.create(
            organisation=org,
            keyword="PRICE",
            template=Template.objects.create(organisation=org, name="P", body="$9k"),
        ).id,
        **followup_ids(olive, own),
    }
    requests = []
    for route in routes():
        if route.startswith("carriers/") or "(" in route or "^" in route:
            continue
        if route.startswith("admin/") and route != "admin/login/":
            continue
        path = "/" + re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), route)
        requests.append((path, {}))
    # The admin's own forms: a change, an add, a bulk delete.
    requests += [
        (reverse("admin:chatserver_lead_change", args=[own.id]), {"name": "Renamed"}),
        (reverse("admin:chatserver_organisation_add"), {"name": "Sneaky Co"}),
        (
            reverse("admin:chatserver_lead_changelist"),
            {"action": "delete_selected", "_selected_action": [own.id], "post": "yes"},
        ),
        (reverse("admin:logout"), {}),
    ]
    return requests


def test_every_form_and_json_write_needs_the_csrf_token(staff, org):
    olive = staff[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(olive.user)
    checked = 0
    for path, data in write_requests(staff, org):
        response = client.post(path, data)
        if response.status_code == 405:
            continue  # takes no POST at all
        assert response.status_code == 403, (path, response.status_code)
        assert b"CSRF" in response.content, path
        # JSON, as the console sends its writes: refused all the same.
        response = client.post(path, json.dumps(data), content_type="application/json")
        assert response.status_code == 403, path
        checked += 1
    assert checked >= 20
    # Nothing happened.
    assert Message.objects.filter(direction="out").count() == 0
    assert not Organisation.objects.filter(name="Sneaky Co").exists()
    assert Lead.objects.filter(name="Ned Own", status="open").exists()


def test_with_the_token_the_same_write_goes_through(staff, org):
    olive, _, inbound = staff
    own = make_lead(org, "Ned Own", assignee=olive, number="+14155550178")
    client = Client(enforce_csrf_checks=True)
    client.force_login(olive.user)
    client.get("/")  # the console page sets the CSRF cookie the scripts read
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/api/leads/{own.id}/close", "{}", content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["lead"]["status"] == "closed"
