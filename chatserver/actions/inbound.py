"""A lead's text: stored once, on the lead and thread its number reaches
(a new lead for a new number), published, and its consent consequences
applied. The one path of an inbound text through the domain."""

from __future__ import annotations

import time
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Exists

from carriers.base import InboundMessage
from chatserver import events
from chatserver.actions import attachments, auto_replies, consent, scheduled, workflows
from chatserver.actions.closing import reopen_lead
from chatserver.actions.lead_events import publish_lead
from chatserver.actions.locks import lock_number, number_lock
from chatserver.actions.messages import count_segments, publish_message_created, touch
from chatserver.models.prepared import Prepared, PreparedInsert
from chatserver.models import (
    Contact,
    ContactNumber,
    Conversation,
    Lead,
    Message,
    SenderNumber,
)
from chatserver.queries import auto_replies as saved_replies
from chatserver.queries import numbers
from chatserver.rules import auto_replies as rules_auto_replies
from chatserver.rules import keywords
from chatserver.rules.errors import UnknownRecipient
from chatserver.rules.text import pretty_number

Status = Message.Status


def existing_thread(sender: SenderNumber, from_number: str) -> Conversation | None:
    """The thread an inbound text joins when all it needs exists (the lead,
    its number, the thread on this sender number), else None. Takes the
    number's lock (see ``conversation_for_inbound``); writes nothing."""
    lock = number_lock(sender.organisation_id, from_number)
    picked = numbers.pick_lead(sender, from_number, before=lock)
    if picked is None or picked[2] is None:
        return None
    conversation = picked[2]
    # Rows the caller already holds: what follows (events, consent) reads them.
    conversation.sender = sender
    conversation.organisation = sender.organisation
    return conversation


def conversation_for_inbound(sender: SenderNumber, from_number: str) -> Conversation:
    """The conversation an inbound text goes to, creating what is missing.

    An unknown number becomes a new lead in Unassigned with source "sms".
    Call it inside a transaction.
    """
    # Two first texts from one new number at once must make one lead (and two
    # texts one thread): the second waits here and then finds the first's.
    lock_number(sender.organisation_id, from_number)
    picked = numbers.pick_lead(sender, from_number)
    if picked is None:
        lead = Lead.objects.create(
            organisation_id=sender.organisation_id,
            name=pretty_number(from_number),
            source="sms",
        )
        contact = Contact.objects.create(organisation_id=sender.organisation_id)
        contact.leads.add(lead)
        number = ContactNumber.objects.create(
            organisation_id=sender.organisation_id,
            contact=contact,
            number=from_number,
        )
        conversation = Conversation.objects.create(
            organisation=sender.organisation,
            lead=lead,
            contact_number=number,
            sender=sender,
        )
        publish_lead(lead, events.LEAD_CREATED)
        # Read by store_inbound: a new lead may start its source's workflows.
        conversation.new_lead = True
        return conversation
    lead_id, number, conversation = picked
    if conversation is None:
        conversation, _ = Conversation.objects.select_related(
            "lead", "contact_number__contact"
        ).get_or_create(
            lead_id=lead_id,
            contact_number=number,
            sender=sender,
            defaults={"organisation_id": sender.organisation_id},
        )
    # Rows the caller already holds: what follows (events, consent) reads them.
    conversation.sender = sender
    conversation.organisation = sender.organisation
    return conversation


def _first(queryset):
    """A queryset as ``first()`` reads it: in its order, else by id."""
    return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]


# Every text runs these: compiled once (``Prepared``).
_SENDER = Prepared(
    lambda number, carrier: _first(
        SenderNumber.objects.select_related(
            "organisation", "agent", "business_hours"
        ).filter(number=number, carrier=carrier)
    ),
    SenderNumber._meta.get_field("number"),
    str,
)


def _reply_work_query(conversation_id, lead_id, organisation_id, word, with_rule):
    checks = {
        "cancels": Exists(scheduled.cancelled_by_reply(conversation_id)),
        "stops": Exists(workflows.running_enrollments(lead_id)),
    }
    if with_rule:
        checks["rule"] = Exists(saved_replies.rules_answering(organisation_id, word))
    return _first(
        Conversation.objects.filter(pk=conversation_id)
        .annotate(**checks)
        .values_list(*checks)
    )


_REPLY_WORK = Prepared(_reply_work_query, int, int, int, str)


def sender_for(inbound: InboundMessage) -> SenderNumber:
    """Our number a text was sent to, or UnknownRecipient.

    A number on one carrier takes texts from that carrier only: the
    simulator's webhook cannot put texts on a Twilio number's leads.
    """
    found = _SENDER(inbound.to_number, inbound.carrier)
    sender = found[0] if found else None
    if sender is None:
        raise UnknownRecipient(
            f"{inbound.to_number} is not one of our {inbound.carrier} numbers"
        )
    return sender


def receive_inbound(
    inbound: InboundMessage, arrived: float | None = None
) -> Message | None:
    """Store a text a lead sent us, once, and tell the agents who may see it.

    Returns None when the carrier redelivered a message we already have: the
    duplicate is acknowledged and changes nothing (the unique carrier message
    id refuses it, and its savepoint takes back all it did).
    """
    sender = sender_for(inbound)
    # All of it or nothing; but inside a caller's transaction (the webhook
    # view's, or the worker's batch) no savepoint of its own: the caller's
    # already takes back a failure (the worker then applies the batch again,
    # a savepoint per receipt), and each savepoint costs two round trips that
    # a lead's text waits behind.
    with transaction.atomic(savepoint=False):
        return store_inbound(sender, inbound, arrived)


def store_inbound(
    sender: SenderNumber, inbound: InboundMessage, arrived: float | None = None
) -> Message | None:
    """``receive_inbound``'s work, in its transaction; ``arrived``: when its
    webhook reached us (a Unix time), now when not given."""
    encoding, segments = count_segments(inbound.body, mms=bool(inbound.media))
    message = Message(
        organisation_id=sender.organisation_id,
        direction=Message.Direction.INBOUND,
        body=inbound.body,
        status=Status.RECEIVED,
        carrier=inbound.carrier,
        carrier_message_id=inbound.carrier_message_id,
        encoding=encoding,
        segments=segments,
        possible_optout=keywords.reads_like_optout(inbound.body),
    )
    conversation = existing_thread(sender, inbound.from_number)
    if conversation is not None:
        # A known lead's thread (most texts): nothing was created, so a
        # duplicate is refused by the INSERT itself, without a savepoint.
        message.conversation = conversation
        if not insert_once(message):
            return None  # the same webhook again: stored before
        if inbound.media:
            # Recorded now, fetched later, off the webhook's path.
            attachments.record_inbound(message, inbound)
    else:
        try:
            # One savepoint for the lead it may create and the message: when
            # the same webhook arrives twice at once, the loser leaves no
            # trace (no empty lead, no event).
            with transaction.atomic():
                conversation = conversation_for_inbound(sender, inbound.from_number)
                message.conversation = conversation
                message.save(force_insert=True)
                if inbound.media:
                    attachments.record_inbound(message, inbound)
        except IntegrityError:
            # The same webhook again (redelivered, or twice at once).
            return None
    touch(conversation, message.created_at)
    reopen_on_inbound(conversation)
    publish_message_created(
        message, arrived=arrived if arrived is not None else time.time()
    )

    # After the message's own event, so consoles show the lead's STOP before
    # the consent change and the confirmation it caused.
    consent.on_inbound(message, inbound)
    new_lead = getattr(conversation, "new_lead", False)
    work = reply_work(conversation, new_lead, inbound.body)
    # The lead spoke first: the texts scheduled to be cancelled then are
    # (after an opt-out failed them all, with that reason).
    if work.cancels:
        scheduled.cancel_on_reply(message)
    if new_lead:
        workflows.on_new_lead(conversation.lead, conversation, agent=None)
    elif work.stops:
        # A lead who answers is talking: the automatic steps stop.
        workflows.stop_lead(conversation.lead, workflows.LEAD_REPLIED)
    # Then a keyword rule's or the after-hours reply, to a number still
    # texted (a STOP just received earns neither).
    auto_replies.answer(message, inbound, rule_may_answer=work.rule)
    return message


class ReplyWork(NamedTuple):
    """What a lead's text may have to do beyond being stored."""

    cancels: bool  # scheduled texts to cancel
    stops: bool  # workflows to stop
    rule: bool  # a keyword rule that may answer it


def reply_work(conversation: Conversation, new_lead: bool, body: str) -> ReplyWork:
    """What the lead's text has to do, in one query, as most texts have
    nothing to cancel, stop or answer (each is then done by its own action,
    which locks and rereads what it changes)."""
    word = rules_auto_replies.message_keyword(body)
    if new_lead:
        return ReplyWork(True, False, True)  # a new lead: nothing to stop (rare)
    found = _REPLY_WORK(
        conversation.pk,
        conversation.lead_id,
        conversation.organisation_id,
        word or "-",
        shape=bool(word),
    )
    if not found:
        return ReplyWork(True, True, True)
    cancels, stops, *rule = found[0]
    return ReplyWork(cancels, stops, bool(rule and rule[0]))


def insert_once(message: Message) -> bool:
    """INSERT a lead's text unless the carrier's message id is stored
    already (``ON CONFLICT DO NOTHING``); whether it was."""
    return _INSERT_ONCE.insert(message, using=Message.objects.db)


_INSERT_ONCE = PreparedInsert(Message, ignore_conflicts=True)


def reopen_on_inbound(conversation: Conversation) -> None:
    """A lead who writes again is worth a look: reopen what was closed."""
    if conversation.status == Conversation.Status.CLOSED:
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.OPEN
        )
        conversation.status = Conversation.Status.OPEN
    if conversation.lead.status == Lead.Status.CLOSED:
        # The reopened lead from now on: the text's events go to its audience.
        conversation.lead = reopen_lead(conversation.lead, agent=None)
