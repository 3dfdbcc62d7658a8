"""Each access level against each bucket: through the JSON API's lists and
details, and through the socket's events and bucket counts."""

import pytest

from carriers.base import InboundMessage
from chatserver import actions
from tests.chatserver.leads_support import (
    api,
    drain,
    lead_id_of,
    login,
    make_lead,
    number_of,
)
from tests.consumers.console_support import (
    channel_layer_fixture,  # noqa: F401
    connect,
    db,
)

LEVELS = ["all", "unassigned", "mine", "assigned"]
BUCKETS = ["unassigned", "mine", "assigned", "closed"]

# What each access level finds in each bucket, written out by hand. "own-X"
# is the lead assigned to the viewer whose access is X; "other" and
# "closed-other" belong to an agent who is none of the viewers.
EXPECTED = {
    "all": {
        "unassigned": {"unassigned"},
        "mine": {"own-all"},
        "assigned": {"other", "own-unassigned", "own-mine", "own-assigned"},
        "closed": {"closed-unassigned", "closed-other"},
    },
    "unassigned": {
        "unassigned": {"unassigned"},
        "mine": {"own-unassigned"},
        "assigned": set(),
        "closed": {"closed-unassigned"},
    },
    "mine": {
        "unassigned": set(),
        "mine": {"own-mine"},
        "assigned": set(),
        "closed": set(),
    },
    "assigned": {
        "unassigned": set(),
        "mine": {"own-assigned"},
        "assigned": {"other", "own-all", "own-unassigned", "own-mine"},
        "closed": {"closed-other"},
    },
}


def visible(level: str) -> set[str]:
    return set().union(*EXPECTED[level].values())


@pytest.fixture
def team(org, sender, make_agent):
    """Four viewers (one per access level), an owner, and leads in every bucket."""
    owner = make_agent("owner", access="mine", first_name="Olga")
    viewers = {level: make_agent(f"viewer-{level}", access=level) for level in LEVELS}
    leads = {
        "unassigned": make_lead(org, "Una Signed"),
        "other": make_lead(org, "Otto Other", assignee=owner),
        "closed-unassigned": make_lead(org, "Cleo Closed", closed=True),
        "closed-other": make_lead(org, "Carl Closed", assignee=owner, closed=True),
    }
    for level, viewer in viewers.items():
        leads[f"own-{level}"] = make_lead(org, f"Owen {level.title()}", assignee=viewer)
    return owner, viewers, leads


@pytest.mark.django_db
@pytest.mark.parametrize("level", LEVELS)
def test_each_access_level_lists_each_bucket_through_the_api(team, level):
    _, viewers, leads = team
    names = {lead.id: key for key, lead in leads.items()}
    client = login(viewers[level])
    for bucket in BUCKETS:
        status, page = api(client, "GET", "/api/leads", {"bucket": bucket})
        assert status == 200
        assert {names[item["id"]] for item in page["leads"]} == EXPECTED[level][bucket]
        assert all(item["bucket"] == bucket for item in page["leads"])
        assert page["counts"] == {b: len(EXPECTED[level][b]) for b in BUCKETS}


@pytest.mark.django_db
@pytest.mark.parametrize("level", LEVELS)
def test_each_access_level_opens_only_the_leads_it_may_see(team, level):
    _, viewers, leads = team
    client = login(viewers[level])
    status, page = api(client, "GET", "/api/leads")
    assert {item["id"] for item in page["leads"]} == {
        leads[key].id for key in visible(level)
    }
    for key, lead in leads.items():
        status, detail = api(client, "GET", f"/api/leads/{lead.id}")
        if key in visible(level):
            assert status == 200 and detail["lead"]["id"] == lead.id
        else:  # hidden leads answer exactly as leads that do not exist
            assert (status, detail["error"]["code"]) == (404, "not_found")
    assert api(client, "GET", "/api/leads/999999")[0] == 404


@pytest.mark.django_db
def test_an_external_user_sees_only_what_is_shared_with_them_read_only(
    org, team, make_agent
):
    _, viewers, leads = team
    partner = make_agent("partner", external=True, sms="allow")
    admin = viewers["all"]
    status, _ = api(
        login(admin),
        "POST",
        f"/api/leads/{leads['other'].id}/share",
        {"agent": partner.id},
    )
    assert status == 200
    client = login(partner)
    status, page = api(client, "GET", "/api/leads")
    assert [item["id"] for item in page["leads"]] == [leads["other"].id]
    assert page["counts"] == {"unassigned": 0, "mine": 0, "assigned": 1, "closed": 0}
    status, detail = api(client, "GET", f"/api/leads/{leads['other'].id}")
    assert detail["lead"]["cannot_text"] == "This lead is shared with you read-only."
    # Read-only: no assigning, closing or texting it.
    for action in ("close", "assign"):
        status, answer = api(
            client, "POST", f"/api/leads/{leads['other'].id}/{action}", {}
        )
        assert status == 403 and "read-only" in answer["error"]["reason"]
    # Shares go to external users only; assignments to internal agents only.
    status, answer = api(
        login(admin),
        "POST",
        f"/api/leads/{leads['other'].id}/assign",
        {"agent": partner.id},
    )
    assert status == 409 and "external" in answer["error"]["reason"]
    status, answer = api(
        login(admin),
        "POST",
        f"/api/leads/{leads['other'].id}/share",
        {"agent": viewers["mine"].id},
    )
    assert status == 409
    # Nor do they see the team.
    assert api(client, "GET", "/api/agents")[0] == 403
    # Unsharing takes it away again.
    api(
        login(admin),
        "POST",
        f"/api/leads/{leads['other'].id}/unshare",
        {"agent": partner.id},
    )
    assert api(client, "GET", f"/api/leads/{leads['other'].id}")[0] == 404


@pytest.mark.django_db(transaction=True)
async def test_each_access_level_gets_the_events_of_each_bucket_and_no_others(
    layer, org, team
):
    _, viewers, leads = team
    consoles = {level: await connect(viewer) for level, viewer in viewers.items()}
    for level, console in consoles.items():
        assert console.hello["buckets"] == {b: len(EXPECTED[level][b]) for b in BUCKETS}

    def activity():
        admin = viewers["all"]
        for key, lead in leads.items():
            if key.startswith("closed"):  # a note (a text would reopen it)
                actions.add_note(admin, lead, f"Called {lead.name}")
            else:  # the lead texts in
                actions.receive_inbound(
                    InboundMessage(
                        carrier="simulator",
                        carrier_message_id=f"SM-{key}",
                        from_number=number_of(lead),
                        to_number="+14155550100",
                        body=f"Hello from {lead.name}",
                    )
                )

    await db(activity)()
    names = {lead.id: key for key, lead in leads.items()}
    for level, console in consoles.items():
        frames = await drain(console)
        about = {
            names[lead_id_of(f)]
            for f in frames
            if f["type"] in ("message.created", "note.created")
        }
        assert about == visible(level), level
        await console.close()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "own, groups, allowed",
    [
        ("allow", [], True),
        ("", ["allow"], True),
        ("", ["allow", "deny"], False),  # one group's Deny beats another's Allow
        ("allow", ["deny"], False),  # a Deny anywhere wins, even a group's
        ("deny", ["allow"], False),  # and the agent's own
        ("", [], False),  # unset everywhere: no
    ],
)
def test_sms_permission_a_deny_anywhere_wins_then_any_allow(
    org, sender, make_agent, authorized, own, groups, allowed
):
    import uuid

    from chatserver.models import AgentGroup

    agent = make_agent("texter", access="all", sms=own)
    for n, setting in enumerate(groups):
        AgentGroup.objects.create(
            organisation=org, name=f"team {n}", sms=setting
        ).members.add(agent)
    lead = make_lead(org, "Dana Whitfield", assignee=agent)
    authorized(number_of(lead))
    client = login(agent)
    status, detail = api(client, "GET", f"/api/leads/{lead.id}")
    expected = None if allowed else "You do not have permission to send SMS."
    assert detail["lead"]["cannot_text"] == expected
    status, state = api(client, "GET", "/api/state")
    assert state["agent"]["sms_allowed"] is allowed
    status, answer = api(
        client,
        "POST",
        f"/api/leads/{lead.id}/conversations",
        {"number": number_of(lead)},
    )
    response = client.post(
        f"/api/conversations/{answer['conversation']['id']}/messages",
        {"body": "Hello Dana", "client_id": str(uuid.uuid4())},
        content_type="application/json",
    )
    # A forbidden send is a 403 (one map of refusals to statuses, issue 17).
    assert response.status_code == (201 if allowed else 403), response.content
