"""Keyword rules and our numbers' business hours, as admins manage them from
the console: each found in the admin's own organisation (another's ids are
"not found"), changed by ``chatserver.actions.keyword_rules`` and
``chatserver.actions.business_hours``."""

from __future__ import annotations

from chatserver.actions import business_hours, keyword_rules
from chatserver.commands.fields import Data, ident
from chatserver.commands.templates import require_admin, template_of
from chatserver.models import Agent, KeywordRule, SenderNumber
from chatserver.queries import auto_replies
from chatserver.rules.errors import ActionError


def rule_of(agent: Agent, data: Data) -> KeywordRule:
    rule = (
        auto_replies.rules_of(agent.organisation_id)
        .filter(pk=ident(data, "rule"))
        .first()
    )
    if rule is None:
        raise ActionError("No such keyword rule.", "not_found")
    return rule


def list_rules(agent: Agent) -> list[Data]:
    """The organisation's keyword rules (admins only)."""
    require_admin(agent)
    return [
        auto_replies.rule_data(rule)
        for rule in auto_replies.rules_of(agent.organisation_id)
    ]


def save_rule(agent: Agent, data: Data) -> Data:
    """``{"rule"?: id, "keyword": text, "template": id, "active"?: bool}``:
    a new rule, or changes to one."""
    existing = rule_of(agent, data) if "rule" in data else None
    if data.get("template") is None:
        raise ActionError("Pick the saved reply the keyword sends.", "invalid")
    template = template_of(agent, data)
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise ActionError("'active' must be true or false.", "invalid")
    require_admin(agent)
    rule = keyword_rules.save_rule(
        agent.organisation, existing, data.get("keyword"), template, active
    )
    return auto_replies.rule_data(rule)


def delete_rule(agent: Agent, data: Data) -> Data:
    """``{"rule": id}``."""
    rule = rule_of(agent, data)
    require_admin(agent)
    keyword_rules.delete_rule(rule)
    return {"deleted": auto_replies.rule_data(rule)}


def number_of(agent: Agent, data: Data) -> SenderNumber:
    """One of the admin's organisation's numbers (another's: not found)."""
    sender = (
        SenderNumber.objects.select_related("business_hours")
        .filter(pk=ident(data, "number"), organisation_id=agent.organisation_id)
        .first()
    )
    if sender is None:
        raise ActionError("No such number.", "not_found")
    return sender


def list_hours(agent: Agent) -> list[Data]:
    """The organisation's numbers with their business hours (admins only)."""
    require_admin(agent)
    numbers = SenderNumber.objects.filter(
        organisation_id=agent.organisation_id
    ).select_related("business_hours")
    return [auto_replies.hours_data(sender) for sender in numbers.order_by("number")]


def save_hours(agent: Agent, data: Data) -> Data:
    """``{"number": id, "time_zone", "days", "opens", "closes",
    "after_hours_text", "reply_every_hours"}``: a number's business hours."""
    sender = number_of(agent, data)
    require_admin(agent)
    business_hours.save_hours(
        sender,
        time_zone=data.get("time_zone"),
        days=data.get("days"),
        opens=data.get("opens"),
        closes=data.get("closes"),
        after_hours_text=data.get("after_hours_text"),
        reply_every_hours=data.get("reply_every_hours", 12),
    )
    return auto_replies.hours_data(number_of(agent, data))


def remove_hours(agent: Agent, data: Data) -> Data:
    """``{"number": id}``: the number keeps no hours (no after-hours reply)."""
    sender = number_of(agent, data)
    require_admin(agent)
    business_hours.remove_hours(sender)
    return auto_replies.hours_data(number_of(agent, data))
