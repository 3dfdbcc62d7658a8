"""Setting up a team: organisations, agents and sender numbers.

Names are cleaned as every text is (``chatserver.rules.text``), checked
against the columns that hold them, and compared as Django compares user
names at sign-in (NFKC: a full-width ``ｖｉｃｔｉｍ`` is ``victim``), so a
look-alike of an existing name is a clear refusal, never a database error.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from carriers import CARRIER_NAMES
from chatserver.models import Agent, Organisation, SenderNumber
from chatserver.rules.errors import ActionError
from chatserver.rules.text import clean_number, clean_text

ORGANISATION_NAME = Organisation._meta.get_field("name").max_length


def add_organisation(name: str) -> Organisation:
    """Create an organisation; its name must be new."""
    if not isinstance(name, str) or not name.strip():
        raise ActionError("An organisation needs a name.")
    name = clean_text(name, "organisation name", ORGANISATION_NAME)
    if Organisation.objects.filter(name__iexact=name).exists():
        raise ActionError(f"An organisation named {name!r} already exists.")
    return Organisation.objects.create(name=name)


def resolve_organisation(name: str | None) -> Organisation:
    """The organisation called ``name``, or the only one when no name is given."""
    if name:
        name = clean_text(name, "organisation name", ORGANISATION_NAME)
        organisation = Organisation.objects.filter(name__iexact=name).first()
        if organisation is None:
            known = ", ".join(Organisation.objects.values_list("name", flat=True))
            raise ActionError(
                f"No organisation named {name!r}"
                + (f" (there is: {known})." if known else ".")
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


def clean_username(username: str) -> str:
    """A user name as Django stores and compares it at sign-in, or
    ActionError: letters, digits and @ . + - _ only (Django's own rule)."""
    User = get_user_model()
    field = User._meta.get_field(User.USERNAME_FIELD)
    username = clean_text(username, "user name", field.max_length, required=True)
    username = User.normalize_username(username)
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise ActionError(f"User name {username!r}: {' '.join(exc.messages)}") from None
    return username


def find_agent(organisation: Organisation, username: str) -> Agent:
    """The agent of the organisation with this user name, or ActionError."""
    username = get_user_model().normalize_username(str(username))
    agent = (
        Agent.objects.select_related("user")
        .filter(user__username__iexact=username, organisation=organisation)
        .first()
    )
    if agent is None:
        raise ActionError(f"No agent {username!r} in {organisation.name!r}.")
    return agent


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
    check_password: bool = False,
) -> Agent:
    """Create a user and their agent seat in the organisation.
    ``check_password`` runs Django's password validators on it (the CLI does,
    as createsuperuser does; fixtures and the demo need not)."""
    User = get_user_model()
    username = clean_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise ActionError(f"A user named {username!r} already exists.")
    if access not in Agent.Access.values:
        raise ActionError(
            f"Unknown access {access!r}: use one of {', '.join(Agent.Access.values)}."
        )
    if sms not in ("", "allow", "deny"):
        raise ActionError("--sms takes allow or deny.")
    names = {
        "first_name": clean_text(first_name, "first name", 150),
        "last_name": clean_text(last_name, "last name", 150),
        "email": User.objects.normalize_email(clean_text(email, "email address", 254)),
    }
    user = User(username=username, is_staff=admin, is_superuser=admin, **names)
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ActionError(" ".join(exc.messages)) from None
    user.set_password(password)
    user.save()
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
        raise ActionError(
            f"Unknown carrier {carrier!r}: use one of {', '.join(CARRIER_NAMES)}."
        )
    e164 = clean_number(number)
    if SenderNumber.objects.filter(number=e164).exists():
        raise ActionError(f"{e164} is already a sender number.")
    if agent is not None and agent.organisation_id != organisation.id:
        raise ActionError(f"{agent} is not an agent of {organisation}.")
    return SenderNumber.objects.create(
        organisation=organisation,
        number=e164,
        carrier=carrier,
        agent=agent,
        # Twilio (Advanced Opt-Out) and Telnyx (its messaging profiles' STOP
        # handling) answer STOP themselves by default, so we send no second
        # confirmation; switch off per number in the admin if yours does not.
        carrier_confirms_optout=carrier in ("twilio", "telnyx"),
    )
