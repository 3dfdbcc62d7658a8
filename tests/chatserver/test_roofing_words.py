"""The console speaks like a roofing company: contacts are homeowners,
spouses and insurance adjusters (rows stored with the old words are migrated,
and the old words still read), and the demo is a roofing company's day."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from chatserver.models import Contact, Lead, LeadClosure, Message
from tests.servers import ROOT

BEFORE = [("chatserver", "0004_sender_number_gateways")]
AFTER = [("chatserver", "0005_console_leads")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def roles_in(apps) -> dict[str, str]:
    """Each contact's role, by first name, as the migrated rows hold them."""
    contacts = apps.get_model("chatserver", "Contact").objects
    return dict(contacts.values_list("first_name", "role"))


@pytest.mark.django_db(transaction=True)
def test_contacts_stored_as_borrowers_become_homeowners_and_spouses():
    apps = migrate(BEFORE)
    Organisation = apps.get_model("chatserver", "Organisation")
    OldContact = apps.get_model("chatserver", "Contact")
    org = Organisation.objects.create(name="Old Roofing")
    for first, role in (
        ("Bea", "borrower"),
        ("Cory", "co_borrower"),
        ("Pat", "partner"),
        ("Oz", "other"),
    ):
        OldContact.objects.create(organisation=org, first_name=first, role=role)
    try:
        apps = migrate(AFTER)
        assert roles_in(apps) == {
            "Bea": "homeowner",
            "Cory": "spouse",
            "Pat": "partner",
            "Oz": "other",
        }
        assert apps.get_model("chatserver", "Organisation").objects.get().region == "US"
        # And back: the old words return (an adjuster, who had none, is a partner).
        apps.get_model("chatserver", "Contact").objects.filter(first_name="Oz").update(
            role="adjuster"
        )
        assert roles_in(migrate(BEFORE)) == {
            "Bea": "borrower",
            "Cory": "co_borrower",
            "Pat": "partner",
            "Oz": "partner",
        }
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_the_demo_is_a_roofing_companys_day(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    roles = set(Contact.objects.values_list("role", flat=True))
    assert {"homeowner", "spouse", "adjuster"} <= roles
    assert roles <= set(Contact.Role.values)
    # Every lead has its homeowner (the one templates greet), some more people
    # and more than one number, an email, a source; one lead is closed and
    # counted; some texts were filed under a category.
    for lead in Lead.objects.all():
        assert lead.contacts.filter(role="homeowner").exists(), lead
    assert Contact.objects.exclude(email="").exists()
    assert Lead.objects.filter(contacts__numbers__kind="secondary").exists()
    assert Lead.objects.filter(status="closed").exists()
    assert LeadClosure.objects.exists()
    assert Message.objects.filter(category__isnull=False).exists()
    sources = set(Lead.objects.values_list("source", flat=True))
    assert len(sources) >= 3
    text = " ".join(Message.objects.values_list("body", flat=True)).lower()
    assert "roof" in text and "borrow" not in text and "loan" not in text


# Where the old words may stay, and how often: the first migration
# (history), the one that renames them, the model's note of them and the
# protocol's (old clients' words still read).
ALLOWED = {
    "chatserver/migrations/0001_initial.py": 5,
    "chatserver/migrations/0005_console_leads.py": 2,
    "chatserver/models/leads.py": 2,
    "docs/protocol.md": 2,
}


def test_no_borrower_is_left_in_what_agents_read_or_the_code():
    found = {}
    for folder in ("chatserver", "static", "docs", "consumers"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".js", ".html", ".md", ".css"}:
                continue
            relative = path.relative_to(ROOT).as_posix()
            count = len(re.findall("borrower", path.read_text(errors="replace"), re.I))
            if count > ALLOWED.get(relative, 0):
                found[relative] = count
    assert found == {}
