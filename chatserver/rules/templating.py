"""Message templates with merge fields, rendered safely.

A template is plain text with fields in braces: ``Hi {lead.first_name}, this
is {agent.first_name} from {org.name}.`` Only the fields in ``FIELDS`` exist;
each is a function of the context, so a template can reach nothing else (no
attribute access, no format specs, no indexing). ``{{`` and ``}}`` stand for
literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the rows a context holds; rules import no model
    from chatserver.models import Agent, Contact, Lead, Organisation, SenderNumber


class TemplateError(ValueError):
    """A template that uses an unknown field or an unpaired brace."""


@dataclass
class Context:
    """What a template is rendered for."""

    organisation: Organisation
    lead: Lead | None = None
    # The person texted (for a lead, its primary contact: the caller reads
    # it, ``queries.contacts.primary_contact``): rules read no database.
    contact: Contact | None = None
    agent: Agent | None = None
    sender: SenderNumber | None = None  # the number the text goes from


def _person(ctx: Context, attribute: str) -> str:
    return getattr(ctx.contact, attribute) if ctx.contact else ""


def _user(ctx: Context, attribute: str) -> str:
    return getattr(ctx.agent.user, attribute) if ctx.agent else ""


def _full_name(ctx: Context) -> str:
    return f"{_person(ctx, 'first_name')} {_person(ctx, 'last_name')}".strip()


FIELDS: dict[str, Callable[[Context], str]] = {
    "lead.name": lambda ctx: ctx.lead.name if ctx.lead else "",
    "lead.first_name": lambda ctx: _person(ctx, "first_name"),
    "lead.last_name": lambda ctx: _person(ctx, "last_name"),
    "lead.full_name": _full_name,
    "agent.first_name": lambda ctx: _user(ctx, "first_name"),
    "agent.last_name": lambda ctx: _user(ctx, "last_name"),
    "agent.name": lambda ctx: ctx.agent.name if ctx.agent else "",
    "agent.email": lambda ctx: _user(ctx, "email"),
    "agent.phone": lambda ctx: ctx.sender.number if ctx.sender else "",
    "org.name": lambda ctx: ctx.organisation.name,
}

# A field, or a doubled brace; anything else with a brace is an error.
TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def _replace(body: str, value_of: Callable[[str], str]) -> str:
    def substitute(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if token in "{}":
            raise TemplateError(
                "A lone brace: write {{ or }} for a brace, or use a field like "
                "{lead.first_name}."
            )
        name = match.group(1).strip()
        if name not in FIELDS:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise TemplateError(f"Unknown field {{{name}}}: use one of {known}.")
        return value_of(name)

    return TOKEN.sub(substitute, body)


def check(body: str) -> list[str]:
    """The fields a template uses; TemplateError when it is not valid."""
    used: list[str] = []
    _replace(body, lambda name: used.append(name) or "")
    return used


def render(body: str, ctx: Context) -> str:
    """The template's text with every field filled in (empty when unknown
    for this lead, e.g. a contact without a first name)."""
    return _replace(body, lambda name: str(FIELDS[name](ctx) or ""))
