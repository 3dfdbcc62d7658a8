"""Internal notes on a lead: written by anyone who may see it, published live
to the others, never sent to the lead."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from chatserver import events, shapes
from chatserver.models import Agent, Lead, Note
from chatserver.publish import emit
from chatserver.queries import access
from chatserver.rules.errors import ActionError
from chatserver.rules.text import parse_client_id

MAX_NOTE = 5000


def add_note(agent: Agent, lead: Lead, body, client_id=None) -> Note:
    """Add a note to a lead the agent may see, and tell the others.

    Adding again with the same ``client_id`` returns the first note.
    """
    client_id = parse_client_id(client_id)
    if client_id is not None:
        existing = Note.objects.filter(author=agent, client_id=client_id).first()
        if existing is not None:
            return existing
    lead = Lead.objects.get(pk=lead.pk)  # who sees it now, not when it was read
    if not access.can_see_lead(agent, lead):
        raise ActionError("No such lead.", "not_found")
    if not isinstance(body, str) or not body.strip():
        raise ActionError("Write the note first.", "empty")
    body = body.strip()
    if len(body) > MAX_NOTE:
        raise ActionError(
            f"A note holds at most {MAX_NOTE} characters ({len(body)} here).",
            "too_long",
        )
    try:
        with transaction.atomic():
            note = Note.objects.create(
                organisation_id=lead.organisation_id,
                lead=lead,
                author=agent,
                body=body,
                client_id=client_id,
            )
            emit(
                lead.organisation_id,
                events.NoteCreated(
                    type=events.NOTE_CREATED, lead=lead.id, note=shapes.note_data(note)
                ),
                events.groups_for_lead(lead),
                lead_id=lead.id,
            )
    except IntegrityError:
        existing = Note.objects.filter(author=agent, client_id=client_id).first()
        if existing is None:
            raise
        return existing
    return note
