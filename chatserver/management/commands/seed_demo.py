"""Seed demo data into an empty database, and print the demo logins."""

import datetime
import os
import secrets
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from carriers.base import InboundMessage
from chatserver import actions
from chatserver.models import Agent, MessageCategory, Organisation, Template

SENDER = "+14155550100"
# A roofing company's leads. Fictional numbers (555-01xx is reserved for
# fiction in North America); example.com addresses.
LEADS = [
    {
        "name": "Dana Whitfield · roof repair",
        "person": ("Dana", "Whitfield", "+14155550123", "dana@example.com"),
        "owner": "alice",
        "source": "Website",
        "texts": [
            "Hi, is this the roofing company? We have a leak over the garage.",
            "Thursday afternoon works for us.",
        ],
        "reply": ("Follow-up", "Hi Dana, this is Alice from Summit Roofing. "
                  "Happy to help! Thursday at 2 pm for the inspection?"),
        "numbers": ["+14155550124"],  # Dana's work cell
        "people": [("Chris", "Whitfield", "spouse", "+14155550125", "")],
    },
    {
        "name": "Marcus Lee · full replacement",
        "person": ("Marcus", "Lee", "+12125550142", "marcus@example.com"),
        "owner": "bob",
        "source": "Referral",
        "texts": ["Can you send me the quote again? I lost the email."],
        "reply": ("Quote", "Hi Marcus, this is Bob from Summit Roofing. Your "
                  "quote for the full tear-off and replacement: $14,800."),
    },
    {
        "name": "Priya Natarajan · gutters",
        "person": ("Priya", "Natarajan", "+13125550177", ""),
        "source": "Google",
        "texts": ["Do you also do gutters? Mine are overflowing 🌧️"],
    },
    {
        "name": "Tom Alvarez · inspection",
        "person": ("Tom", "Alvarez", "+16175550108", ""),
        "source": "Yard sign",
        "texts": ["Saw your flyer. How much is an inspection?"],
    },
    {
        "name": "Grace Kim · storm damage",
        "person": ("Grace", "Kim", "+12065550191", "grace@example.com"),
        "owner": "alice",
        "source": "Door knocking",
        "texts": [],
        "people": [
            ("Rob", "Hale", "adjuster", "+12065550192", "rob.hale@example.com"),
        ],
    },
    {
        "name": "Helen Ortiz · skylight",
        "person": ("Helen", "Ortiz", "+15035550117", ""),
        "owner": "alice",
        "source": "Repeat customer",
        "texts": ["The skylight is sealed and dry after the storm. Thank you!"],
        "reply": ("Follow-up", "Glad to hear it, Helen! Call us any time."),
        "closed": True,
    },
]


class Command(BaseCommand):
    help = "Create a demo organisation, logins and leads when the database is empty."

    def handle(self, **options):
        logins_file = settings.VAR_DIR / "demo_logins.txt"
        if Organisation.objects.exists():
            if logins_file.exists():
                self.stdout.write(logins_file.read_text())
            else:
                self.stdout.write("Database already has data: no demo data seeded.")
            return
        logins = self.seed()
        base = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        text = (
            f"Demo logins ({base}/accounts/login/):\n"
            + "".join(
                f"  {username:6} / {password}   {role}\n"
                for username, password, role in logins
            )
            + f"Text the company as a lead at {base}/simulator/ "
            "(as admin).\nQuiet hours are off for the demo organisation "
            "(Admin > Organisations turns them on). The send governor is on:\n"
            "a text to a lead who has not written in a day keeps to the hours\n"
            "of the lead's state (docs/compliance.md).\n"
        )
        logins_file.write_text(text)
        self.stdout.write(text)

    @transaction.atomic
    def seed(self):
        organisation = actions.add_organisation("Summit Roofing (demo)")
        organisation.message_limit = Organisation.MessageLimit.ADVANCED
        # Quiet hours off (start == end), so the demo answers at any hour
        # wherever it is tried; the admin turns them on per organisation.
        organisation.quiet_hours_start = organisation.quiet_hours_end = datetime.time(0)
        # MMS on, so the demo shows images both ways (the simulator page
        # sends a lead's photo; agents attach images in the composer).
        organisation.mms_enabled = True
        organisation.save(
            update_fields=[
                "message_limit",
                "quiet_hours_start",
                "quiet_hours_end",
                "mms_enabled",
            ]
        )
        logins = []
        people = {}
        for username, first, access, admin, role in [
            ("admin", "Avery", Agent.Access.ALL, True, "admin, sees every lead"),
            ("alice", "Alice", Agent.Access.ALL, False, "agent, sees every lead"),
            ("bob", "Bob", Agent.Access.MINE, False, "agent, sees his own leads"),
        ]:
            password = secrets.token_urlsafe(9)
            people[username] = actions.add_agent(
                username, password, organisation, access=access, sms="allow",
                admin=admin, first_name=first, email=f"{username}@example.com",
            )
            logins.append((username, password, role))
        actions.add_number(SENDER, "simulator", organisation)
        # Templates and categories, as an admin would prepare them.
        categories = {
            name: MessageCategory.objects.create(organisation=organisation, name=name)
            for name in ("Follow-up", "Quote", "Insurance claim")
        }
        for name, body in [
            ("Introduction", "Hi {lead.first_name}, this is {agent.first_name} "
             "from {org.name}. How can we help with your roof?"),
            ("Follow-up", "Hi {lead.first_name}, just following up on your "
             "inspection. Does this week still work for you?"),
        ]:
            Template.objects.create(
                organisation=organisation,
                name=name,
                body=body,
                category=categories["Follow-up"],
            )
        for lead in LEADS:
            self.seed_lead(organisation, lead, people, categories)
        return logins

    def seed_lead(self, organisation, data, people, categories):
        """One lead: its people and numbers, the lead's texts, the owner's
        reply (filed under a category), closed when the data says."""
        first, last, number, email = data["person"]
        owner = people.get(data.get("owner"))
        lead = actions.create_lead(
            organisation.id, data["name"], first, last, number,
            email=email, assignee=owner, source=data["source"],
            notify=False,  # no assignment emails for demo data
        )
        homeowner = lead.contacts.get()
        for extra in data.get("numbers", []):
            actions.add_contact_number(None, lead, homeowner, extra)
        for p_first, p_last, role, p_number, p_email in data.get("people", []):
            actions.add_contact(
                None, lead, first_name=p_first, last_name=p_last, role=role,
                number=p_number, email=p_email,
            )
        for text in data["texts"]:
            actions.receive_inbound(
                InboundMessage(
                    carrier="simulator",
                    carrier_message_id=f"seed-{uuid.uuid4().hex}",
                    from_number=number,
                    to_number=SENDER,
                    body=text,
                )
            )
        if owner and data["texts"] and data.get("reply"):
            category, body = data["reply"]
            actions.send_message(
                owner, lead.conversations.get(), body, uuid.uuid4(),
                category_id=categories[category].id,
            )
        if data.get("closed"):
            actions.close_lead(lead, owner)
