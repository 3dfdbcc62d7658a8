"""Search: leads by name, contact name or number, and messages by text (and
category), within what the agent may see, with how many of each every
bucket holds.

On PostgreSQL words match with full-text search (GIN indexes from
``chatserver.models.indexes``; every word of the query must match, each as a
prefix: "dan whit" finds Dana Whitfield). On other databases (SQLite, for
`make run` and most tests) the same rules run as LIKE. A query that looks like
a phone number also finds leads by number, exactly when it is a whole number
and by its digits otherwise ("0123" finds +14155550123).
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from carriers.base import InvalidNumber, normalize_number
from chatserver.models import Contact, ContactNumber, Lead, Message
from chatserver.models.indexes import SEARCH_CONFIG
from chatserver.queries import access, buckets
from chatserver.queries.numbers import region_of
from chatserver.rules.snippets import words

MIN_DIGITS = 3
# Characters a typed phone number may contain besides digits.
NUMBER_CHARS = re.compile(r"^[\d\s+().\-]+$")


def full_text() -> bool:
    """Whether the database searches with full-text indexes."""
    return connection.vendor == "postgresql"


def vector(*fields: str) -> SearchVector:
    """The expression the full-text indexes are built on (keep them equal)."""
    return SearchVector(*fields, config=SEARCH_CONFIG)


def text_query(terms: list[str]) -> SearchQuery:
    """Every term, each as a prefix."""
    raw = " & ".join(f"{term}:*" for term in terms)
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


def text_match(queryset: QuerySet, fields: tuple[str, ...], terms: list[str]):
    """Rows of ``queryset`` whose ``fields`` contain every term."""
    if full_text():
        return queryset.alias(search=vector(*fields)).filter(search=text_query(terms))
    for term in terms:
        matches = Q()
        for field in fields:
            matches |= Q(**{f"{field}__icontains": term})
        queryset = queryset.filter(matches)
    return queryset


def number_match(organisation_id: int, query: str) -> QuerySet[ContactNumber] | None:
    """Contact numbers the query names, or None when it is not a number."""
    if not NUMBER_CHARS.match(query):
        return None
    digits = re.sub(r"\D", "", query)
    if len(digits) < MIN_DIGITS:
        return None
    numbers = ContactNumber.objects.filter(organisation_id=organisation_id)
    try:
        return numbers.filter(
            number=normalize_number(query, region_of(organisation_id))
        )
    except InvalidNumber:
        return numbers.filter(number__contains=digits)


def matching_lead_ids(organisation_id: int, query: str) -> QuerySet | None:
    """The ids of the organisation's leads whose name, contact's name or number
    matches (a subquery), or None when the query has nothing to search for."""
    query = (query or "").strip()
    org = organisation_id
    terms = words(query)
    candidates = []
    if terms:
        candidates.append(
            text_match(Lead.objects.filter(organisation_id=org), ("name",), terms)
        )
        contacts = text_match(
            Contact.objects.filter(organisation_id=org),
            ("first_name", "last_name"),
            terms,
        )
        candidates.append(
            Lead.objects.filter(organisation_id=org, contacts__in=contacts)
        )
    numbers = number_match(org, query)
    if numbers is not None:
        candidates.append(
            Lead.objects.filter(organisation_id=org, contacts__numbers__in=numbers)
        )
    if not candidates:
        return None
    # A union of small index lookups, not one OR over every lead.
    ids = [c.order_by().values("id") for c in candidates]
    return ids[0].union(*ids[1:]) if len(ids) > 1 else ids[0]


def search_leads(agent, query: str) -> QuerySet[Lead]:
    """The leads the agent may see whose name, contact's name or number
    matches, most recently updated first (slice it)."""
    ids = matching_lead_ids(agent.organisation_id, query)
    if ids is None:
        return Lead.objects.none()
    return (
        access.visible_leads(agent)
        .filter(id__in=ids)
        .select_related("assignee__user")
        .order_by("-last_activity_at", "-id")
    )


def search_messages(
    agent, query: str, category: int | None = None
) -> QuerySet[Message]:
    """The messages of leads the agent may see whose text matches (and, with
    ``category``, filed under it: then an empty query finds all of those),
    newest first (slice it)."""
    terms = words((query or "").strip())
    if not terms and category is None:
        return Message.objects.none()
    messages = Message.objects.filter(
        access.lead_visibility(agent, "conversation__lead__"),
        organisation_id=agent.organisation_id,
    )
    if category is not None:
        messages = messages.filter(category_id=category)
    if terms:
        messages = text_match(messages, ("body",), terms)
    return (
        messages.select_related(
            "conversation__lead",
            "conversation__contact_number__contact",
            "conversation__sender",
            "author__user",
        )
        # Newest first by creation time, which has no index: so PostgreSQL
        # finds the matches through the full-text index and sorts them, whose
        # cost grows with the matches. Ordered by id it may walk the primary
        # key from the newest message, testing each one, which for a rare
        # word means the whole table (measured: bench/search_scale.py).
        .order_by("-created_at", "-id")
    )


# Where each kind of search result reaches its lead.
LEAD_PATH = {"leads": "", "messages": "conversation__lead__"}


def in_bucket(agent, results: QuerySet, kind: str, bucket: str | None) -> QuerySet:
    """Search results (``kind``: leads or messages) in one of the agent's
    buckets (all of them when ``bucket`` is None)."""
    if bucket is None:
        return results
    return results.filter(buckets.bucket_filter(agent, bucket, LEAD_PATH[kind]))


def counts_by_bucket(agent, found: dict[str, QuerySet]) -> dict[str, dict[str, int]]:
    """How many results of each kind every bucket holds: ``{"unassigned":
    {"leads": 2, "messages": 5}, ...}`` (one query per kind)."""
    tallies = {
        kind: buckets.counts_in(agent, results, LEAD_PATH[kind])
        for kind, results in found.items()
    }
    return {
        bucket: {kind: tallies[kind][bucket] for kind in found}
        for bucket in buckets.BUCKETS
    }
