"""How search and the lead list hold up on a large PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.search_scale --leads 50000 --messages 500000

Makes a fresh database next to the one DATABASE_URL names (dropped at the
end), migrates it, fills one organisation with leads, contacts, numbers and
messages, then times the search and list endpoints as three kinds of agents
(all leads, their own leads, unassigned leads) and prints one JSON object:
the median and worst of each, and PostgreSQL's plan of the message search.

Rows are bulk-inserted (``chatserver.actions`` would take hours for this many,
publishing an event per row); nothing here is product code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
import uuid

WORDS = (
    "roof leak gutter quote inspection shingles storm damage insurance claim "
    "tuesday thursday morning afternoon estimate repair replacement flashing "
    "chimney skylight attic ventilation warranty financing deposit schedule"
).split()
FIRST = "Dana Marcus Priya Tom Grace Nia Alex Sam Rita Bo Olga Otis Hal Gina".split()
LAST = "Whitfield Lee Natarajan Alvarez Kim Long Rower Scully Rae Low Ocean".split()


def fresh_database(base_url: str) -> tuple[str, str]:
    import psycopg

    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    admin_url = re.sub(r"/[^/]*$", "/postgres", base_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", base_url), name


def drop_database(base_url: str, name: str) -> None:
    import psycopg

    admin_url = re.sub(r"/[^/]*$", "/postgres", base_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(leads: int, messages: int, agents: int) -> dict:
    from django.utils import timezone

    from chatserver import actions
    from chatserver.models import Contact, ContactNumber, Conversation, Lead, Message

    rng = random.Random(7)
    org = actions.add_organisation("Bench Search Roofing")
    sender = actions.add_number("+14155550100", "simulator", org)
    people = [
        actions.add_agent(f"agent{i}", "bench-pw", org, access="mine", sms="allow")
        for i in range(agents)
    ]
    now = timezone.now()
    lead_rows = Lead.objects.bulk_create(
        Lead(
            organisation=org,
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)} #{n}",
            assignee=rng.choice(people) if rng.random() < 0.8 else None,
            status="closed" if rng.random() < 0.3 else "open",
            last_activity_at=now - timezone.timedelta(minutes=n),
        )
        for n in range(leads)
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            organisation=org, first_name=rng.choice(FIRST), last_name=rng.choice(LAST)
        )
        for _ in lead_rows
    )
    Contact.leads.through.objects.bulk_create(
        Contact.leads.through(contact_id=c.id, lead_id=lead.id)
        for c, lead in zip(contacts, lead_rows, strict=True)
    )
    numbers = ContactNumber.objects.bulk_create(
        ContactNumber(
            organisation=org,
            contact=c,
            # Fictional-looking numbers (555 exchange), unique per lead.
            number=f"+1{rng.choice(['415', '212', '312', '617'])}555{n % 10000:04d}",
        )
        for n, c in enumerate(contacts)
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(organisation=org, lead=lead, contact_number=number, sender=sender)
        for lead, number in zip(lead_rows, numbers, strict=True)
    )
    batch = 20000
    for start in range(0, messages, batch):
        Message.objects.bulk_create(
            Message(
                organisation=org,
                conversation=rng.choice(conversations),
                direction=rng.choice(["in", "out"]),
                body=" ".join(rng.choices(WORDS, k=rng.randint(4, 14))),
                status="received",
                carrier="simulator",
            )
            for _ in range(min(batch, messages - start))
        )
    return {"organisation": org, "agents": people}


def timed(client, path, params, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return {
        "median_ms": round(statistics.median(samples), 1),
        "max_ms": round(max(samples), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=20000)
    parser.add_argument("--messages", type=int, default=200000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL server (this measures full-text search)."
        )
    url, name = fresh_database(base_url)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "chatserver.settings",
            "DEBUG": "true",
            "REDIS_URL": "",
            "ALLOWED_HOSTS": "testserver",
        }
    )
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from chatserver.models import Agent
        from chatserver.queries import search

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        made = fill(args.leads, args.messages, args.agents)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        seeded = time.perf_counter() - started
        org = made["organisation"]
        viewers = {
            "all": actions_agent(org, "viewer-all", "all"),
            "mine": made["agents"][0],
            "unassigned": actions_agent(org, "viewer-unassigned", "unassigned"),
        }
        results = {}
        for kind, agent in viewers.items():
            client = Client()
            client.force_login(Agent.objects.get(pk=agent.pk).user)
            results[kind] = {
                "search 'roof leak'": timed(
                    client, "/api/search", {"q": "roof leak"}, args.runs
                ),
                "search 'whitfield'": timed(
                    client, "/api/search", {"q": "whitfield"}, args.runs
                ),
                "search number '5550123'": timed(
                    client, "/api/search", {"q": "5550123"}, args.runs
                ),
                "list all": timed(client, "/api/leads", {}, args.runs),
                "list mine": timed(client, "/api/leads", {"bucket": "mine"}, args.runs),
                "list closed": timed(
                    client, "/api/leads", {"bucket": "closed"}, args.runs
                ),
            }
        plan = search.search_messages(viewers["mine"], "roof leak")[:20].explain()
        print(
            json.dumps(
                {
                    "leads": args.leads,
                    "messages": args.messages,
                    "seed_seconds": round(seeded, 1),
                    "timings": results,
                    "message_search_plan_as_mine": plan.splitlines(),
                },
                indent=2,
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept: {url}", file=sys.stderr)
        else:
            drop_database(base_url, name)


def actions_agent(org, username, access):
    from chatserver import actions

    return actions.add_agent(username, "bench-pw", org, access=access, sms="allow")


if __name__ == "__main__":
    main()
