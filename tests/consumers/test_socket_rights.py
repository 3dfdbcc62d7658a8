"""Authority is read when an action runs, never from what a socket remembered
at connect; and a change of rights reaches the agent's open consoles live,
whichever path made it (issue 16: "Authority is read at the moment of the
action")."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chatserver import actions
from chatserver.models import Agent, AgentGroup, Message, Organisation
from tests.consumers.console_support import connect, db

pytestmark = pytest.mark.django_db(transaction=True)


async def send(console, conversation_id: int, body: str = "Hi Dana!") -> dict:
    """Send a text; the socket's answer to it (ack or error)."""
    client_id = str(uuid.uuid4())
    await console.send(
        type="message.send", conversation=conversation_id, body=body, client_id=client_id
    )
    while True:
        frame = await console.next()
        if frame.get("client_id") == client_id:
            return frame


def admin_client(org) -> Client:
    """The Django admin, logged in as a superuser of the installation."""
    user = get_user_model().objects.create_superuser("root", "", "root-pass-123")
    client = Client()
    client.force_login(user)
    return client


async def test_an_sms_deny_made_while_the_console_is_open_stops_the_next_send(
    conversation, alice
):
    """Today's bug, reproduced: the open console still sent after an admin set
    the agent's SMS permission to Deny."""
    console = await connect(alice)
    await db(actions.set_agent)(alice, sms="deny")

    answer = await send(console, conversation.id)

    assert answer["type"] == "error" and answer["code"] == "forbidden"
    assert answer["reason"] == "You do not have permission to send SMS."
    assert not await db(Message.objects.filter(direction="out").exists)()
    await console.close()


async def test_a_group_deny_made_while_the_console_is_open_stops_the_next_send(
    org, conversation, alice
):
    console = await connect(alice)

    def deny_through_a_group():
        AgentGroup.objects.create(organisation=org, name="Probation", sms="deny")
        AgentGroup.objects.get(name="Probation").members.add(alice)

    await db(deny_through_a_group)()
    answer = await send(console, conversation.id)
    assert answer["code"] == "forbidden"
    await console.close()


async def test_the_plan_switched_to_standard_while_open_holds_the_next_long_text(
    org, conversation, alice
):
    org.message_limit = Organisation.MessageLimit.ADVANCED
    await db(org.save)()
    console = await connect(alice)
    await db(actions.set_organisation_limit)(org, "standard")

    answer = await send(console, conversation.id, "A" * 200)

    assert answer["type"] == "error" and answer["code"] == "too_long"
    await console.close()


async def test_a_rights_change_reaches_the_open_console_as_a_fresh_state(alice):
    console = await connect(alice)
    assert console.hello["agent"]["sms_allowed"] is True

    await db(actions.set_agent)(alice, sms="deny")

    reload = await console.until("reload", timeout=1)
    assert reload["agent"]["sms_allowed"] is False
    fresh = (await connect(alice)).hello
    assert reload["agent"] == fresh["agent"]
    assert reload["buckets"] == fresh["buckets"]
    await console.close()


async def test_an_admin_edit_reaches_the_open_console(org, alice):
    """The Django admin writes rows directly: the change still goes out."""
    console = await connect(alice)
    client = await db(admin_client)(org)

    def change_in_admin():
        agent = Agent.objects.select_related("user").get(pk=alice.pk)
        response = client.post(
            f"/admin/chatserver/agent/{agent.pk}/change/",
            {
                "user": agent.user_id,
                "organisation": agent.organisation_id,
                "access": "all",
                "sms": "deny",
                "display_images": "on",
            },
        )
        assert response.status_code == 302, response.content[:2000]

    await db(change_in_admin)()
    reload = await console.until("reload", timeout=1)
    assert reload["agent"]["sms_allowed"] is False
    await console.close()


async def test_a_wider_access_shows_the_leads_it_opens_live(
    make_agent, text_in, sender
):
    """Access Mine -> All: the socket re-joins the groups that carry every
    lead's events, with no reconnect."""
    carol = await db(make_agent)("carol", access="mine")
    console = await connect(carol)
    assert console.hello["buckets"]["unassigned"] == 0

    await db(actions.set_agent)(carol, access="all")
    reload = await console.until("reload", timeout=1)
    assert reload["agent"]["access"] == "all"

    await db(text_in)("Is anyone there?")
    created = await console.until("message.created", timeout=2)
    assert created["message"]["body"] == "Is anyone there?"
    await console.close()


async def test_a_deactivated_agents_sockets_close_with_4401(org, alice):
    console = await connect(alice)
    client = await db(admin_client)(org)

    def deactivate_in_admin():
        user = get_user_model().objects.get(pk=alice.user_id)
        response = client.post(
            f"/admin/auth/user/{user.pk}/change/",
            {
                "username": user.username,
                "is_active": "",
                "date_joined_0": "2025-01-01",
                "date_joined_1": "00:00:00",
            },
        )
        assert response.status_code == 302, response.content[:3000]

    await db(deactivate_in_admin)()
    closed = await console.comm.receive_output(1)
    while closed["type"] != "websocket.close":
        closed = await console.comm.receive_output(1)
    assert closed["code"] == 4401
