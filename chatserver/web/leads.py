"""The JSON API for leads: lists by bucket with counts, details, and the
changes agents make (through ``chatserver.commands.leads``, as the socket
does). See docs/protocol.md.

Anything an agent may not see answers 404, exactly as what does not exist.
"""

from __future__ import annotations

import datetime

from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chatserver import events, shapes
from chatserver.commands import leads as lead_commands
from chatserver.models import (
    Agent,
    Contact,
    ContactNumber,
    Conversation,
    Lead,
    Message,
    Note,
)
from chatserver.queries import (
    access,
    buckets,
    console,
    contacts,
    search,
)
from chatserver.web.responses import api_error, api_login_required, read_json

PAGE = 50
MAX_PAGE = 200
PREVIEW = 140


def run(request: HttpRequest, agent: Agent, command, status=200, **named):
    """Run a command (``chatserver.commands.leads``) with the body's fields
    and the ids the URL names; refusals answer through ``api_login_required``."""
    return JsonResponse(command(agent, {**read_json(request), **named}), status=status)


# -- lists ---------------------------------------------------------------------------


def with_list_data(leads):
    """Load what list items show, in a fixed number of queries whatever the
    number of leads."""
    last_message = (
        Message.objects.filter(conversation__lead_id=OuterRef("pk"))
        .order_by("-id")
        .values("id")[:1]
    )
    return (
        leads.select_related("assignee__user")
        .annotate(last_message_id=Subquery(last_message))
        .prefetch_related(
            Prefetch(
                "contacts",
                queryset=Contact.objects.prefetch_related(
                    Prefetch(
                        "numbers", queryset=ContactNumber.objects.order_by("kind", "id")
                    )
                ),
            )
        )
    )


def lead_items(agent: Agent, leads: list[Lead]) -> list[dict]:
    """Leads as lists show them: the lead, the agent's bucket for it, its main
    contact and number, the last message (and the number it was with) and
    whether the agent may text it."""
    ids = [lead.last_message_id for lead in leads if lead.last_message_id]
    last = {
        m.id: m
        for m in Message.objects.filter(id__in=ids).select_related(
            "conversation__contact_number__contact"
        )
    }
    sms_ok = access.sms_allowed(agent)
    items = []
    for lead in leads:
        contact = contacts.primary_contact(lead)
        phones = list(contact.numbers.all()) if contact else []
        message = last.get(lead.last_message_id)
        items.append(
            {
                **shapes.lead_data(lead),
                "bucket": buckets.bucket_of(agent.id, lead.assignee_id, lead.status),
                "contact": {
                    "id": contact.id,
                    "name": contact.name,
                    "number": phones[0].number if phones else None,
                }
                if contact
                else None,
                "last_message": {
                    "id": message.id,
                    "conversation": message.conversation_id,
                    # Which of the lead's numbers it was with.
                    "number": message.conversation.contact_number.number,
                    "contact_name": message.conversation.contact_number.contact.name,
                    "direction": message.direction,
                    "body": message.body[:PREVIEW],
                    "status": message.status,
                    "created_at": message.created_at.isoformat(),
                }
                if message
                else None,
                "cannot_text": access.text_block_reason(
                    agent,
                    lead,
                    sms_ok=sms_ok,
                    assignee_name=lead.assignee.name if lead.assignee_id else "",
                ),
            }
        )
    return items


def page_token(lead: Lead) -> str:
    return f"{lead.last_activity_at.isoformat()}|{lead.id}"


def after_token(token: str) -> Q:
    """The leads after a page's last one, in list order; ValueError if bad."""
    when, _, lead_id = token.rpartition("|")
    moment = datetime.datetime.fromisoformat(when)
    if moment.tzinfo is None:
        raise ValueError("naive time")
    lead_id = int(lead_id)
    return Q(last_activity_at__lt=moment) | Q(last_activity_at=moment, id__lt=lead_id)


@require_http_methods(["GET", "POST"])
@api_login_required
def leads(request: HttpRequest, agent: Agent) -> JsonResponse:
    """GET: the agent's leads, most recently updated first, with every bucket's
    count: ``?bucket=unassigned|mine|assigned|closed`` (all when absent),
    ``q=`` (name, contact, number), ``after=<next>``, ``limit=``.
    POST: create a lead (``lead_commands.create``)."""
    if request.method == "POST":
        return run(request, agent, lead_commands.create, status=201)
    bucket = request.GET.get("bucket", "all") or "all"
    if bucket != "all" and bucket not in buckets.BUCKETS:
        return api_error(
            f"Unknown bucket {bucket!r}: use all, {', '.join(buckets.BUCKETS)}."
        )
    try:
        limit = min(int(request.GET.get("limit", PAGE)), MAX_PAGE)
        if limit < 1:
            raise ValueError
    except ValueError:
        return api_error(f"'limit' must be a number from 1 to {MAX_PAGE}.")
    queryset = (
        access.visible_leads(agent)
        if bucket == "all"
        else buckets.leads_in(agent, bucket)
    )
    query = request.GET.get("q", "").strip()
    if query:
        ids = search.matching_lead_ids(agent.organisation_id, query)
        queryset = queryset.filter(id__in=ids) if ids is not None else queryset.none()
    if request.GET.get("after"):
        try:
            queryset = queryset.filter(after_token(request.GET["after"]))
        except ValueError:
            return api_error("'after' must be the 'next' of a previous page.")
    page = list(
        with_list_data(queryset).order_by("-last_activity_at", "-id")[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    return JsonResponse(
        {
            "bucket": bucket,
            "counts": buckets.counts(agent),
            "leads": lead_items(agent, page),
            "next": page_token(page[-1]) if more else None,
        }
    )


# -- one lead ------------------------------------------------------------------------


@require_GET
@api_login_required
def lead_detail(request: HttpRequest, agent: Agent, lead_id: int) -> JsonResponse:
    """Everything about a lead the agent may see: contacts and numbers,
    conversations, notes, shares, and whether (or why not) they may text."""
    lead = access.find_lead(agent, lead_id)
    if lead is None:
        return api_error("No such lead.", 404, "not_found")
    people = lead.contacts.prefetch_related(
        Prefetch("numbers", queryset=ContactNumber.objects.order_by("kind", "id"))
    ).order_by("id")
    conversations = (
        Conversation.objects.filter(lead=lead)
        .select_related("lead", "contact_number__contact", "sender")
        .order_by("-last_message_at", "-id")
    )
    notes = Note.objects.filter(lead=lead).select_related("author__user")
    shared = list(lead.shared_with.select_related("user"))
    return JsonResponse(
        {
            "lead": {
                **shapes.lead_data(lead),
                "bucket": buckets.bucket_of(agent.id, lead.assignee_id, lead.status),
                "audience": events.audience_for_lead(lead),
                "shared_with": [{"id": a.id, "name": a.name} for a in shared],
                "contacts": [contacts.contact_data(c) for c in people],
                "conversations": console.conversation_summaries(list(conversations)),
                "notes": [shapes.note_data(n) for n in notes],
                "cannot_text": access.why_cannot_text(agent, lead),
            }
        }
    )


def lead_action(operation, status=200):
    """A POST view doing ``operation`` on the lead in the URL."""

    @require_POST
    @api_login_required
    def view(request: HttpRequest, agent: Agent, lead_id: int) -> JsonResponse:
        return run(request, agent, operation, status=status, lead=lead_id)

    view.__name__ = operation.__name__
    view.__doc__ = operation.__doc__
    return view


def conversation_action(operation):
    """A POST view doing ``operation`` on the conversation in the URL."""

    @require_POST
    @api_login_required
    def view(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
        return run(request, agent, operation, conversation=conversation_id)

    view.__name__ = operation.__name__
    view.__doc__ = operation.__doc__
    return view


@require_http_methods(["GET", "POST"])
@api_login_required
def lead_notes(request: HttpRequest, agent: Agent, lead_id: int) -> JsonResponse:
    """GET: the lead's notes, oldest first. POST ``{"body", "client_id"}``:
    add one."""
    if request.method == "POST":
        return run(request, agent, lead_commands.add_note, status=201, lead=lead_id)
    lead = access.find_lead(agent, lead_id)
    if lead is None:
        return api_error("No such lead.", 404, "not_found")
    notes = Note.objects.filter(lead=lead).select_related("author__user")
    return JsonResponse({"notes": [shapes.note_data(n) for n in notes]})


def contact_action(operation, status=200):
    """A POST view doing ``operation`` on the contact of the lead in the URL."""

    @require_POST
    @api_login_required
    def view(
        request: HttpRequest, agent: Agent, lead_id: int, contact_id: int
    ) -> JsonResponse:
        return run(
            request, agent, operation, status=status, lead=lead_id, contact=contact_id
        )

    view.__name__ = operation.__name__
    view.__doc__ = operation.__doc__
    return view


urlpatterns = [
    path("api/leads", leads, name="api-leads"),
    path("api/leads/<int:lead_id>", lead_detail, name="api-lead"),
    path("api/leads/<int:lead_id>/assign", lead_action(lead_commands.assign)),
    path("api/leads/<int:lead_id>/close", lead_action(lead_commands.close)),
    path("api/leads/<int:lead_id>/reopen", lead_action(lead_commands.reopen)),
    path("api/leads/<int:lead_id>/share", lead_action(lead_commands.share)),
    path("api/leads/<int:lead_id>/unshare", lead_action(lead_commands.unshare)),
    path("api/leads/<int:lead_id>/notes", lead_notes, name="api-lead-notes"),
    path(
        "api/leads/<int:lead_id>/contacts",
        lead_action(lead_commands.add_contact, status=201),
    ),
    path(
        "api/leads/<int:lead_id>/contacts/<int:contact_id>",
        contact_action(lead_commands.update_contact),
    ),
    path(
        "api/leads/<int:lead_id>/contacts/<int:contact_id>/numbers",
        contact_action(lead_commands.add_number, status=201),
    ),
    path(
        "api/leads/<int:lead_id>/conversations",
        lead_action(lead_commands.open_conversation),
    ),
    path(
        "api/conversations/<int:conversation_id>/close",
        conversation_action(lead_commands.close_conversation),
    ),
    path(
        "api/conversations/<int:conversation_id>/reopen",
        conversation_action(lead_commands.reopen_conversation),
    ),
]
