"""Who may open the console's socket, and the state it starts from."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from chatserver import actions
from chatserver.models import Agent
from consumers.console import CLOSE_NOT_AN_AGENT, CLOSE_UNAUTHENTICATED
from tests.consumers.console_support import (
    ORIGIN,
    channel_layer_fixture,  # noqa: F401 (the `layer` fixture)
    communicator,
    connect,
    connect_with,
    db,
    lead_number,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def refused_with(comm) -> int:
    """The close code of a socket the server accepted and closed at once,
    after checking that it sent nothing before closing."""
    connected, _ = await comm.connect()
    assert connected
    output = await comm.receive_output(5)
    assert output["type"] == "websocket.close", output
    return output["code"]


async def test_an_anonymous_socket_is_closed_with_4401_before_any_data(org):
    assert await refused_with(communicator(cookie=None)) == CLOSE_UNAUTHENTICATED


async def test_a_forged_session_cookie_is_anonymous(org):
    assert await refused_with(communicator(cookie="not-a-session")) == 4401


async def test_a_user_without_an_agent_seat_is_closed_with_4403(org):
    def make_user():
        user = get_user_model().objects.create_user("visitor", password="pw-visitor")
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    cookie = await db(make_user)()
    assert await refused_with(communicator(cookie)) == CLOSE_NOT_AN_AGENT


async def test_a_login_from_before_a_password_change_is_anonymous(alice):
    cookie = await db(session_cookie)(alice)
    greeted = await connect_with(cookie)
    await greeted.close()

    def change_password():
        alice.user.set_password("a-new-secret-2")
        alice.user.save()

    await db(change_password)()
    assert await refused_with(communicator(cookie)) == CLOSE_UNAUTHENTICATED


async def test_an_expired_login_is_anonymous(alice):
    cookie = await db(session_cookie)(alice)
    await db(Session.objects.filter(session_key=cookie).update)(expire_date=timezone.now())
    assert await refused_with(communicator(cookie)) == CLOSE_UNAUTHENTICATED


async def test_a_deactivated_users_login_is_anonymous(alice):
    cookie = await db(session_cookie)(alice)
    await db(get_user_model().objects.filter(pk=alice.user_id).update)(is_active=False)
    assert await refused_with(communicator(cookie)) == CLOSE_UNAUTHENTICATED


class LockedOutBackend(ModelBackend):
    """A backend that has since refused everyone it once logged in."""

    def get_user(self, user_id):
        return None


async def test_a_login_by_another_backend_is_read_by_that_backend(alice, settings):
    backend = f"{__name__}.LockedOutBackend"
    settings.AUTHENTICATION_BACKENDS = [backend, "django.contrib.auth.backends.ModelBackend"]

    def login_by_other_backend():
        client = Client()
        client.force_login(alice.user, backend=backend)
        return client.cookies["sessionid"].value

    cookie = await db(login_by_other_backend)()
    assert await refused_with(communicator(cookie)) == CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.net",  # another site
        "http://testserver:8081",  # another program on our host (cookies ignore ports)
        "http://testserver.evil.example.net",
        "null",  # a sandboxed frame or a file
        None,  # no Origin at all
    ],
)
async def test_a_socket_from_another_origin_is_refused_at_the_handshake(alice, origin):
    cookie = await db(session_cookie)(alice)
    connected, _ = await communicator(cookie, origin=origin).connect()
    assert not connected


async def test_the_public_base_url_is_a_trusted_origin_behind_a_proxy(alice):
    # A proxy may pass its own Host; the page's origin is PUBLIC_BASE_URL's
    # (https://chat.example.com in the test settings).
    cookie = await db(session_cookie)(alice)
    comm = communicator(cookie, origin="https://chat.example.com", host="10.0.0.5:8000")
    connected, _ = await comm.connect()
    assert connected
    await comm.disconnect()


async def test_a_host_outside_allowed_hosts_is_refused_even_if_origin_matches(alice):
    cookie = await db(session_cookie)(alice)
    comm = communicator(cookie, origin="http://intruder.test", host="intruder.test")
    connected, _ = await comm.connect()
    assert not connected


async def test_hello_names_the_agent_and_carries_unread_counts_and_open_conversations(
    layer, org, alice, make_agent, text_in
):
    number = lead_number()
    first = await db(text_in)("Hi, I need a quote", from_number=number)
    last = await db(text_in)("Any news?", from_number=number)
    other = await db(text_in)("Hello?", from_number=lead_number())

    console = await connect(alice)
    hello = console.hello

    assert hello["agent"]["id"] == alice.id
    assert hello["agent"]["username"] == "alice"
    assert hello["agent"]["access"] == "all"
    assert hello["organisation"] == {
        "id": org.id,
        "name": "Acme Roofing",
        "message_limit": "standard",
    }
    assert hello["unread"] == {
        "total": 3,
        "conversations": {str(first.conversation_id): 2, str(other.conversation_id): 1},
    }
    listed = {c["id"]: c for c in hello["conversations"]}
    assert set(listed) == {first.conversation_id, other.conversation_id}
    assert listed[first.conversation_id]["last_message"]["id"] == last.id
    assert listed[first.conversation_id]["last_message"]["body"] == "Any news?"
    assert hello["conversations"][0]["id"] == other.conversation_id  # newest first
    # The cursor is the newest event's: resuming from it replays nothing.
    assert isinstance(hello["cursor"], int) and hello["cursor"] > 0
    await console.send(type="resume", cursor=hello["cursor"])
    resumed = await console.until("resumed")
    assert resumed["replayed"] == 0 and resumed["cursor"] == hello["cursor"]
    await console.close()


async def test_hello_shows_only_what_the_agent_may_see(org, alice, bob, text_in):
    await db(text_in)("An unassigned lead's text", from_number=lead_number())
    mine = await db(text_in)("Bob's lead's text", from_number=lead_number())
    await db(lambda: actions.assign_lead(mine.conversation.lead, bob, actor=alice))()

    console = await connect(bob)
    assert [c["id"] for c in console.hello["conversations"]] == [mine.conversation_id]
    assert console.hello["unread"]["conversations"] == {str(mine.conversation_id): 1}
    await console.close()


async def test_an_agent_of_another_organisation_sees_nothing_of_ours(org, text_in):
    other = await db(actions.add_organisation)("Other Co")
    stranger = await db(
        lambda: actions.add_agent("stranger", "pw", other, access=Agent.Access.ALL)
    )()
    console = await connect(stranger)
    await db(text_in)("For Acme only")
    assert console.hello["conversations"] == []
    assert console.hello["unread"] == {"total": 0, "conversations": {}}
    await console.quiet(0.5)
    await console.close()


async def test_logging_out_closes_that_sessions_sockets_and_no_others(org, alice):
    def logged_in_client():
        client = Client()
        client.force_login(alice.user)
        return client

    laptop, phone = await db(logged_in_client)(), await db(logged_in_client)()
    on_laptop = await connect_with(laptop.cookies["sessionid"].value)
    on_phone = await connect_with(phone.cookies["sessionid"].value)

    await db(lambda: laptop.post("/accounts/logout/", HTTP_ORIGIN=ORIGIN))()

    closed = await on_laptop.comm.receive_output(5)
    assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await on_phone.quiet()
    await on_phone.close()
