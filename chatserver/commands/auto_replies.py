"""Keyword rules, as admins manage them from the console: each found in the
admin's own organisation (another's ids are "not found"), changed by
``chatserver.actions.keyword_rules``."""

from __future__ import annotations

from chatserver.actions import keyword_rules
from chatserver.commands.fields import Data, ident
from chatserver.commands.templates import require_admin, template_of
from chatserver.models import Agent, KeywordRule
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
