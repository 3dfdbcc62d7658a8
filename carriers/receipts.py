"""Carrier-neutral events as JSON: how a verified, parsed webhook waits in
the database for the worker (``chatserver.actions.webhooks``), parsed once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carriers.base import (
    BadRequest,
    CarrierError,
    DeliveryStatus,
    ErrorKind,
    InboundMessage,
    MediaItem,
    StatusUpdate,
)


def event_to_json(event: InboundMessage | StatusUpdate) -> dict[str, Any]:
    """An event as a JSON-ready dict, ``event_from_json``'s input."""
    if isinstance(event, InboundMessage):
        return {
            "event": "inbound",
            "carrier": event.carrier,
            "carrier_message_id": event.carrier_message_id,
            "from_number": event.from_number,
            "to_number": event.to_number,
            "body": event.body,
            "media": [[item.url, item.content_type] for item in event.media],
            "carrier_keyword": event.carrier_keyword,
            "raw": dict(event.raw),
        }
    error = event.error
    return {
        "event": "status",
        "carrier": event.carrier,
        "carrier_message_id": event.carrier_message_id,
        "status": event.status.value,
        "error": [error.kind.value, error.code, error.reason] if error else None,
        "reference": event.reference,
        "raw": dict(event.raw),
    }


def event_from_json(data: Mapping[str, Any]) -> InboundMessage | StatusUpdate:
    """The event ``event_to_json`` made; BadRequest for anything else."""
    try:
        if data["event"] == "inbound":
            return InboundMessage(
                carrier=data["carrier"],
                carrier_message_id=data["carrier_message_id"],
                from_number=data["from_number"],
                to_number=data["to_number"],
                body=data["body"],
                media=tuple(MediaItem(url, kind) for url, kind in data["media"]),
                carrier_keyword=data["carrier_keyword"],
                raw=data.get("raw") or {},
            )
        error = data["error"]
        return StatusUpdate(
            carrier=data["carrier"],
            carrier_message_id=data["carrier_message_id"],
            status=DeliveryStatus(data["status"]),
            error=CarrierError(ErrorKind(error[0]), error[1], error[2])
            if error
            else None,
            reference=data["reference"],
            raw=data.get("raw") or {},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"not a stored event: {exc}") from None
