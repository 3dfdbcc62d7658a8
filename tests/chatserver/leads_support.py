"""Helpers for the tests of leads, access, buckets and search."""

from __future__ import annotations

import asyncio
import json

from django.test import Client

from chatserver import actions
from chatserver.models import Agent, Lead
from tests.conftest import fictional_number


def login(agent: Agent) -> Client:
    """A browser logged in as the agent."""
    client = Client()
    client.force_login(agent.user)
    return client


def api(client: Client, method: str, path: str, data=None) -> tuple[int, dict]:
    """Call the JSON API; returns the status and the decoded answer."""
    if method == "GET":
        response = client.get(path, data or {})
    else:
        response = client.generic(
            method,
            path,
            json.dumps(data) if data is not None else "",
            content_type="application/json",
        )
    return response.status_code, response.json()


def make_lead(
    org, name: str, *, assignee: Agent | None = None, closed=False, number=None
) -> Lead:
    """A lead with one homeowner and a fresh number, as an admin would add it."""
    first, _, last = name.partition(" ")
    lead = actions.create_lead(
        org.id, name, first, last, number or fictional_number(), assignee=assignee
    )
    if closed:
        lead = actions.close_lead(lead, None)
    return lead


def number_of(lead: Lead) -> str:
    return lead.contacts.get().numbers.get().number


def lead_id_of(frame: dict) -> int | None:
    """The lead an event is about (a lead event carries the lead itself)."""
    lead = frame.get("lead")
    return lead["id"] if isinstance(lead, dict) else lead


async def drain(console, quiet: float = 0.4, timeout: float = 10) -> list[dict]:
    """Every frame the socket receives until it has been quiet for a while."""
    frames = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await console.comm.receive_nothing(quiet):
            return frames
        frames.append(await console.next())
    raise AssertionError(f"the socket never went quiet: {frames[-5:]}")
