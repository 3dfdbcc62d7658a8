"""Setting up a team: organisations, agents and sender numbers."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from carriers import CARRIER_NAMES
from carriers.base import InvalidNumber, normalize_number
from chatserver.actions.errors import ActionError
from chatserver.models import Agent, Organisation, SenderNumber


def add_organisation(name: str) -> Organisation:
    """Create an organisation; its name must be new."""
    name = name.strip()
    if not name:
        raise ActionError("An organisation needs a name.")
    if Organisation.objects.filter(name__iexact=name).exists():
        raise ActionError(f"An organisation named {name!r} already exists.")
    return Organisation.objects.create(name=name)


def resolve_organisation(name: str | None) -> Organisation:
    """The organisation called ``name``, or the only one when no name is given."""
    if name:
        organisation = Organisation.objects.filter(name__iexact=name.strip()).first()
        if organisation is None:
            known = ", ".join(Organisation.objects.values_list("name", flat=True))
            raise ActionError(
                f"No organisation named {name!r}" + (f" (there is: {known})." if known else ".")
            )
        return organisation
    organisations = list(Organisation.objects.all()[:2])
    if not organisations:
        raise ActionError("There is no organisation yet: create one with add_org NAME.")
    if len(organisations) > 1:
        raise ActionError(
            "There are several organisations: say which one with --org NAME."
        )
    return organisations[0]


@transaction.atomic
def add_agent(
    username: str,
    password: str,
    organisation: Organisation,
    *,
    access: str = Agent.Access.MINE,
    sms: str = "",
    admin: bool = False,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    external: bool = False,
) -> Agent:
    """Create a user and their agent seat in the organisation."""
    User = get_user_model()
    username = username.strip()
    if not username:
        raise ActionError("An agent needs a username.")
    if User.objects.filter(username__iexact=username).exists():
        raise ActionError(f"A user named {username!r} already exists.")
    if access not in Agent.Access.values:
        raise ActionError(f"Unknown access {access!r}: use one of {', '.join(Agent.Access.values)}.")
    if sms not in ("", "allow", "deny"):
        raise ActionError("--sms takes allow or deny.")
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=admin,
        is_superuser=admin,
    )
    return Agent.objects.create(
        user=user,
        organisation=organisation,
        access=access,
        sms=sms,
        is_external=external,
    )


def add_number(
    number: str,
    carrier: str,
    organisation: Organisation,
    agent: Agent | None = None,
) -> SenderNumber:
    """Add a sender number on a carrier, for the organisation or one agent."""
    if carrier not in CARRIER_NAMES:
        raise ActionError(f"Unknown carrier {carrier!r}: use one of {', '.join(CARRIER_NAMES)}.")
    try:
        e164 = normalize_number(number)
    except InvalidNumber as exc:
        raise ActionError(f"Invalid number: {exc}") from None
    if SenderNumber.objects.filter(number=e164).exists():
        raise ActionError(f"{e164} is already a sender number.")
    if agent is not None and agent.organisation_id != organisation.id:
        raise ActionError(f"{agent} is not an agent of {organisation}.")
    return SenderNumber.objects.create(
        organisation=organisation,
        number=e164,
        carrier=carrier,
        agent=agent,
        # Twilio answers STOP itself (Advanced Opt-Out), so we send no second
        # confirmation; switch off per number in the admin if yours does not.
        carrier_confirms_optout=(carrier == "twilio"),
    )
