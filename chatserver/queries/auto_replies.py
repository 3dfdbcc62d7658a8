"""Automatic replies as they stand: an organisation's keyword rules, and
the automatic replies a conversation got lately (a number's business hours
are read with the number: ``actions.inbound.sender_for``). Read-only:
``chatserver.actions.auto_replies`` sends."""

from __future__ import annotations

import datetime

from chatserver.models import Conversation, KeywordRule, Message, SenderNumber


def rules_of(organisation_id: int):
    """The organisation's keyword rules, by keyword, with their templates."""
    return KeywordRule.objects.filter(organisation_id=organisation_id).select_related(
        "template"
    )


def rules_answering(organisation_id: int, word: str):
    """The active rules answering ``word`` (a stored, upper-case keyword)."""
    return KeywordRule.objects.filter(
        organisation_id=organisation_id, keyword=word, active=True
    )


def rule_for(organisation_id: int, word: str) -> KeywordRule | None:
    """The active rule answering ``word`` (a stored, upper-case keyword)."""
    if not word:
        return None
    return rules_answering(organisation_id, word).select_related("template").first()


def bodies_since(
    conversation: Conversation, automation: str, since: datetime.datetime
) -> list[str]:
    """The texts of the automatic replies of this kind the conversation got
    since ``since`` (one that failed never reached the lead: not counted)."""
    return list(
        Message.objects.filter(
            conversation=conversation, automation=automation, created_at__gte=since
        )
        .exclude(status__in=[Message.Status.FAILED, Message.Status.UNDELIVERED])
        .values_list("body", flat=True)
    )


def answered_after_hours_since(
    conversation: Conversation, since: datetime.datetime
) -> bool:
    """Whether the conversation got an after-hours reply since ``since`` (one
    that failed never reached the lead, so it does not count)."""
    return (
        Message.objects.filter(
            conversation=conversation,
            automation=Message.Automation.AFTER_HOURS,
            created_at__gte=since,
        )
        .exclude(status__in=[Message.Status.FAILED, Message.Status.UNDELIVERED])
        .exists()
    )


def rule_data(rule: KeywordRule) -> dict:
    """A rule as the console's editor shows it."""
    return {
        "id": rule.id,
        "keyword": rule.keyword,
        "template": rule.template_id,
        "template_name": rule.template.name,
        "active": rule.active,
    }


def hours_data(sender: SenderNumber) -> dict:
    """A number and its business hours (``null``: none), as the console's
    editor shows them."""
    hours = getattr(sender, "business_hours", None)
    return {
        "id": sender.id,
        "number": sender.number,
        "hours": None
        if hours is None
        else {
            "time_zone": hours.time_zone,
            "days": hours.days,
            "opens": f"{hours.opens:%H:%M}",
            "closes": f"{hours.closes:%H:%M}",
            "after_hours_text": hours.after_hours_text,
            "reply_every_hours": hours.reply_every_hours,
        },
    }
