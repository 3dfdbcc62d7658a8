"""Keyword rules: an organisation's admins say which saved reply answers a
keyword a lead texts (``chatserver.actions.auto_replies`` sends it).

A change tells the organisation's consoles as a change to the saved replies
does (``templates.changed``): the editor lives beside them and re-reads both.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from chatserver.actions.templates import tell_consoles
from chatserver.models import KeywordRule, Organisation, Template
from chatserver.rules import auto_replies
from chatserver.rules.errors import ActionError


@transaction.atomic
def save_rule(
    organisation: Organisation,
    rule: KeywordRule | None,
    keyword,
    template: Template,
    active: bool = True,
) -> KeywordRule:
    """Create a rule (``rule`` None) or change one; a keyword answers one
    rule in an organisation, and STOP, START, HELP and their variants none."""
    if template.organisation_id != organisation.id:
        raise ActionError("No such template.", "not_found")
    rule = rule or KeywordRule(organisation=organisation)
    rule.keyword = auto_replies.clean_keyword(keyword)
    rule.template = template
    rule.active = active
    taken = KeywordRule.objects.filter(
        organisation=organisation, keyword=rule.keyword
    ).exclude(pk=rule.pk)
    message = f"The keyword {rule.keyword} has a rule already: change that one."
    if taken.exists():
        raise ActionError(message, "duplicate")
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:  # the same keyword saved twice at once
        raise ActionError(message, "duplicate") from None
    tell_consoles(organisation.id)
    return rule


@transaction.atomic
def delete_rule(rule: KeywordRule) -> None:
    rule.delete()
    tell_consoles(rule.organisation_id)
