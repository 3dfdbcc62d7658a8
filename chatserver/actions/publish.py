"""Store an event and publish it to consoles once the transaction commits."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from chatserver.models import Event

log = logging.getLogger(__name__)


def emit(
    organisation_id: int,
    event_type: str,
    payload: dict[str, Any],
    groups: Iterable[str],
    lead_id: int | None = None,
    routing: dict[str, Any] | None = None,
) -> Event:
    """Record an event (its id is the cursor) and publish it on commit.

    The JSON a browser receives is serialised here, once; sockets relay the
    text as it is. ``routing`` adds fields that consumers read to keep their
    own state (the conversation, the direction of a message, ...).
    """
    event = Event.objects.create(
        organisation_id=organisation_id,
        lead_id=lead_id,
        type=event_type,
        payload=payload,
    )
    text = json.dumps(
        {"type": event_type, "cursor": event.id, **payload}, cls=DjangoJSONEncoder
    )
    message = {
        "type": event_type,
        "cursor": event.id,
        "lead": lead_id,
        "text": text,
        **(routing or {}),
    }
    targets = sorted(set(groups))
    transaction.on_commit(lambda: publish(targets, message))
    return event


def publish(groups: list[str], message: dict[str, Any]) -> None:
    """Send one message to each group. The channel layer may drop it: a
    console that misses it gets it back from the database when it resumes."""
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all():
        for group in groups:
            await layer.group_send(group, message)

    try:
        async_to_sync(send_all)()
    except Exception:  # the doorbell failed; the event is safe in the database
        log.exception("could not publish %s to %s", message["type"], groups)
