"""The console's one search box: ``GET /api/search``. Leads by name, contact
or number and messages by their text (or category), across every bucket the
agent may see, each bucket's count, and the matches marked in snippets
(``chatserver.rules.snippets``). See docs/protocol.md.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from chatserver import shapes
from chatserver.models import Agent, Lead, Message, MessageCategory
from chatserver.queries import access, buckets, search
from chatserver.rules.snippets import matches, parts, snippet, words
from chatserver.web.leads import lead_items, with_list_data
from chatserver.web.responses import api_error, api_login_required

LIMIT = 20  # results of each kind, unless ``limit`` says otherwise
MAX_LIMIT = 200


def marked(text: str, terms: list[str]) -> list[list]:
    """A short text (a name) as snippet parts, its matches marked."""
    return parts(text, matches(text, terms))


def message_item(agent: Agent, message: Message, terms: list[str]) -> dict:
    """A message found, with where it is (lead, contact, which number,
    bucket) and its snippet."""
    conversation = message.conversation
    lead = conversation.lead
    number = conversation.contact_number
    return {
        **shapes.message_data(message),
        "lead_name": lead.name,
        "lead_status": lead.status,
        "contact": number.contact_id,
        "contact_name": number.contact.name,
        "contact_number": number.number,
        "number_kind": number.kind,
        "bucket": buckets.bucket_of(agent.id, lead.assignee_id, lead.status),
        "snippet": snippet(message.body, terms),
    }


def lead_item(item: dict, terms: list[str]) -> dict:
    """A lead found (a list item), its name and contact's name marked."""
    contact = item.get("contact") or {}
    return {
        **item,
        "name_parts": marked(item["name"], terms),
        "contact_parts": marked(contact.get("name") or "", terms),
    }


def read_params(
    request: HttpRequest, agent: Agent
) -> tuple[int | None, str | None, int]:
    """``category`` (one of the organisation's), ``bucket`` and ``limit``,
    or ValueError with the reason."""
    raw = request.GET.get("category", "")
    category = None
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) < 20):
            raise ValueError("'category' takes a category's id.")
        category = int(raw)
        if not MessageCategory.objects.filter(
            pk=category, organisation_id=agent.organisation_id
        ).exists():
            raise LookupError("No such message category.")
    bucket = request.GET.get("bucket") or None
    if bucket is not None and bucket not in buckets.BUCKETS:
        raise ValueError(
            f"Unknown bucket {bucket!r}: use {', '.join(buckets.BUCKETS)}."
        )
    try:
        limit = int(request.GET.get("limit", LIMIT))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"'limit' must be a number from 1 to {MAX_LIMIT}.")
    return category, bucket, limit


@require_GET
@api_login_required
def lead_search(request: HttpRequest, agent: Agent) -> JsonResponse:
    """``?q=&category=&bucket=&limit=``: leads (by name, contact or number)
    and messages (by text; with ``category``, filed under it) among those the
    agent may see, newest first, with every bucket's count of each; with
    ``bucket``, only the results in that bucket are listed."""
    query = request.GET.get("q", "").strip()
    try:
        category, bucket, limit = read_params(request, agent)
    except LookupError as exc:
        return api_error(str(exc), 404, "not_found")
    except ValueError as exc:
        return api_error(str(exc))
    if not query and category is None:
        return api_error("Type something to search for.")
    terms = words(query)
    found = {"messages": search.search_messages(agent, query, category)}
    # Leads have no category: filtering by one finds messages only.
    found["leads"] = (
        search.search_leads(agent, query) if category is None else Lead.objects.none()
    )
    leads = with_list_data(search.in_bucket(agent, found["leads"], "leads", bucket))
    messages = search.in_bucket(
        agent, found["messages"], "messages", bucket
    ).prefetch_related("attachments")
    return JsonResponse(
        {
            "q": query,
            "category": category,
            "bucket": bucket,
            "counts": search.counts_by_bucket(agent, found),
            "leads": [
                lead_item(item, terms)
                for item in lead_items(agent, list(leads[:limit]))
            ],
            "messages": access.images_for(
                agent,
                [message_item(agent, m, terms) for m in messages[:limit]],
            ),
        }
    )


urlpatterns = [path("api/search", lead_search, name="api-search")]
