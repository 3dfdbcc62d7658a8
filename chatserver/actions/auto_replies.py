"""Automatic replies to a lead's text: a keyword rule's saved reply, or the
after-hours reply of the number the lead texted.

Each answers only the lead's text just received (called once, as that text
is stored: a redelivered webhook stores nothing and answers nothing), goes
through the outbox like any text (kind ``auto_reply``, no agent author), and
so is no solicitation that quiet hours or the governor hold. Never sent:

- to a number that opted out (consent Revoked);
- to a consent keyword (STOP, START, HELP and their variants, or a keyword
  the carrier says it acted on): ``chatserver.actions.consent`` answers those;
- to a text that reads like an opt-out ("please stop texting me"), which
  waits for an agent's decision.

A keyword rule wins over the after-hours reply: one automatic reply per text.
A keyword texted again within ``KEYWORD_AGAIN_AFTER`` of the same reply
gets nothing more: the lead has the answer, and two automatic systems
texting each other stop there.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from carriers.base import InboundMessage
from chatserver.actions.messages import queue_message
from chatserver.models import Message
from chatserver.queries import auto_replies as saved
from chatserver.queries import compliance
from chatserver.queries.consent import State, state_of
from chatserver.rules import auto_replies, keywords, templating

Automation = Message.Automation

KEYWORD_AGAIN_AFTER = datetime.timedelta(minutes=10)


def answer(
    message: Message, inbound: InboundMessage, rule_may_answer: bool = True
) -> Message | None:
    """Queue the automatic reply the lead's ``message`` earns, if any.

    Costs no query for most texts: the number's business hours come with
    it (``inbound.sender_for``), a rule is looked for only when the whole
    text is one word (and ``rule_may_answer``: the caller may know there is
    none), and consent is read only when a reply is due.
    """
    if keywords.keyword_of(message.body) or keywords.carrier_keyword(
        inbound.carrier_keyword
    ):
        return None
    if message.possible_optout:
        return None
    conversation = message.conversation
    now = timezone.now()
    rule = (
        saved.rule_for(
            conversation.organisation_id, auto_replies.message_keyword(message.body)
        )
        if rule_may_answer
        else None
    )
    if rule is not None:
        if opted_out(conversation):
            return None
        return reply(
            conversation,
            rule.template.body,
            Automation.KEYWORD,
            not_since=now - KEYWORD_AGAIN_AFTER,
        )
    # Read with the sender (select_related): None when the number has none.
    hours = getattr(conversation.sender, "business_hours", None)
    if hours is None or not hours.after_hours_text.strip() or hours.is_open(now):
        return None
    since = now - datetime.timedelta(hours=hours.reply_every_hours)
    if opted_out(conversation) or saved.answered_after_hours_since(conversation, since):
        return None
    return reply(conversation, hours.after_hours_text, Automation.AFTER_HOURS)


def opted_out(conversation) -> bool:
    number = conversation.contact_number.number
    return state_of(conversation.organisation_id, number) == State.REVOKED


def reply(conversation, body: str, automation: str, not_since=None) -> Message | None:
    """Queue ``body`` (a template, filled in for the lead: the agent fields
    are its assignee's) as an automatic reply, with the organisation's
    intro on first contact and its footer, as any text it sends; not when
    the conversation got the same reply since ``not_since``."""
    lead = conversation.lead
    context = templating.Context(
        organisation=conversation.organisation,
        lead=lead,
        contact=conversation.contact_number.contact,
        agent=lead.assignee,
        sender=conversation.sender,
    )
    try:
        text = templating.render(body, context).strip()
    except templating.TemplateError:
        return None  # saved before the fields it uses were checked: say nothing
    if not text:
        return None
    # Compared without the intro and footer the organisation adds.
    if not_since and any(
        compliance.undecorate(conversation, sent) == text
        for sent in saved.bodies_since(conversation, automation, not_since)
    ):
        return None
    return queue_message(
        conversation,
        compliance.decorate(conversation, text),
        kind=Message.Kind.AUTO_REPLY,
        automation=automation,
    )
