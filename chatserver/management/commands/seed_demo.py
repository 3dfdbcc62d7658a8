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
# Fictional numbers (555-01xx is reserved for fiction in North America).
LEADS = [
    ("Dana Whitfield · roof repair", "Dana", "Whitfield", "+14155550123", "alice",
     ["Hi, is this the roofing company? We have a leak over the garage.",
      "Thursday afternoon works for us."]),
    ("Marcus Lee · full replacement", "Marcus", "Lee", "+12125550142", "bob",
     ["Can you send me the quote again? I lost the email."]),
    ("Priya Natarajan · gutters", "Priya", "Natarajan", "+13125550177", None,
     ["Do you also do gutters? Mine are overflowing 🌧️"]),
    ("Tom Alvarez · inspection", "Tom", "Alvarez", "+16175550108", None,
     ["Saw your flyer. How much is an inspection?"]),
    ("Grace Kim · storm damage", "Grace", "Kim", "+12065550191", "alice", []),
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
            "(Admin > Organisations turns them on).\n"
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
        follow_up = MessageCategory.objects.create(
            organisation=organisation, name="Follow-up"
        )
        MessageCategory.objects.create(organisation=organisation, name="Quote")
        for name, body in [
            ("Introduction", "Hi {lead.first_name}, this is {agent.first_name} "
             "from {org.name}. How can we help with your roof?"),
            ("Follow-up", "Hi {lead.first_name}, just following up on your "
             "inspection. Does this week still work for you?"),
        ]:
            Template.objects.create(
                organisation=organisation, name=name, body=body, category=follow_up
            )
        for name, first, last, number, owner, texts in LEADS:
            lead = actions.create_lead(
                organisation.id, name, first, last, number,
                assignee=people[owner] if owner else None, source="web",
                notify=False,  # no assignment emails for demo data
            )
            for text in texts:
                actions.receive_inbound(
                    InboundMessage(
                        carrier="simulator",
                        carrier_message_id=f"seed-{uuid.uuid4().hex}",
                        from_number=number,
                        to_number=SENDER,
                        body=text,
                    )
                )
            if owner and texts:
                conversation = lead.conversations.get()
                actions.send_message(
                    people[owner], conversation,
                    f"Hi {first}, this is {people[owner].user.first_name} from Summit "
                    "Roofing. Happy to help!",
                    uuid.uuid4(),
                )
        return logins
