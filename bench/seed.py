"""Set up a harness database: an organisation, a Twilio number, and agents who
are already logged in (their sessions made in bulk).

Run in the servers' environment (``python -m bench.seed --agents 100``); prints
one JSON line: the organisation, the sender number and, per agent, its id and
session key. Agents are made by ``chatserver.actions.add_agent`` like any other;
only password hashing is cheapened (nobody logs in with these passwords: their
sessions are written directly, as a login would write them).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from chatserver import actions  # noqa: E402
from chatserver.models import Organisation, SenderNumber  # noqa: E402

ORGANISATION = "Bench Roofing"
SENDER = "+14155550100"  # fictional (555-01xx)
SESSION_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


@transaction.atomic
def seed(agents: int, prefix: str) -> dict:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organisation = Organisation.objects.filter(name=ORGANISATION).first()
    if organisation is None:
        organisation = actions.add_organisation(ORGANISATION)
        # No quiet hours (start == end), so the harness's agents may text at
        # any hour it runs; a plain setting of the organisation.
        organisation.quiet_hours_start = organisation.quiet_hours_end
        organisation.save(update_fields=["quiet_hours_start"])
    if not SenderNumber.objects.filter(number=SENDER).exists():
        actions.add_number(SENDER, "twilio", organisation)
    made = [
        actions.add_agent(
            f"{prefix}{i:05d}",
            "bench-password",
            organisation,
            access="all",
            sms="allow",
            first_name=f"Agent {i}",
        )
        for i in range(agents)
    ]
    expires = timezone.now() + datetime.timedelta(days=1)
    store = SessionStore()
    sessions = []
    for agent in made:
        user = agent.user
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(
                session_key=get_random_string(32, SESSION_CHARS),
                session_data=store.encode(data),
                expire_date=expires,
            )
        )
    Session.objects.bulk_create(sessions)
    return {
        "organisation": organisation.id,
        "sender": SENDER,
        "agents": [
            {"id": agent.id, "username": agent.user.username, "session": s.session_key}
            for agent, s in zip(made, sessions, strict=True)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    print(json.dumps(seed(args.agents, args.prefix)))


if __name__ == "__main__":
    main()
