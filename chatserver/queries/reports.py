"""Engagements closed per agent and month: an admin's figures for the team,
and each agent's own."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from chatserver.models import Agent


def month_bounds(
    month: str | None = None,
) -> tuple[datetime.datetime, datetime.datetime]:
    """The start and end of a month ("YYYY-MM"; this month when None), in the
    server's time zone. ValueError for anything else."""
    if month:
        start = datetime.datetime.strptime(month, "%Y-%m")
        start = timezone.make_aware(start)
    else:
        start = timezone.localtime().replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
    year, month_number = (
        (start.year + 1, 1)
        if start.month == 12
        else (
            start.year,
            start.month + 1,
        )
    )
    end = start.replace(year=year, month=month_number)
    return start, end


def with_engagements_closed(
    agents: QuerySet[Agent], start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Agent]:
    """The agents, each annotated with ``engagements_closed``: the leads and
    conversations they closed between ``start`` and ``end`` (one query)."""
    return agents.annotate(
        engagements_closed=Count(
            "closures",
            filter=Q(closures__created_at__gte=start, closures__created_at__lt=end),
        )
    )


def engagements_closed(
    organisation_id: int, month: str | None = None, only: Agent | None = None
) -> dict:
    """Every internal agent of the organisation (or ``only`` that one) with
    what they closed in the month (zero included); ``total`` is the sum."""
    start, end = month_bounds(month)
    agents = Agent.objects.filter(organisation_id=organisation_id, is_external=False)
    if only is not None:
        agents = agents.filter(pk=only.pk)
    agents = list(
        with_engagements_closed(
            agents.select_related("user").order_by("user__username"), start, end
        )
    )
    return {
        "month": start.strftime("%Y-%m"),
        "total": sum(agent.engagements_closed for agent in agents),
        "agents": [
            {
                "id": agent.id,
                "username": agent.user.username,
                "name": agent.name,
                "engagements_closed": agent.engagements_closed,
            }
            for agent in agents
        ],
    }
