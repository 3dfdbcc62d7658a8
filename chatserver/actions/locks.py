"""Locks that serialise work on one phone number of an organisation.

The order: a number's lock before any row of its threads or leads. A lead's
text takes the number's lock first (it does not know its lead yet), then
updates the thread and the lead; an agent's reply that locked its thread and
lead first and the number after deadlocked with it, until PostgreSQL failed
one of the two a second later (tests/chatserver/test_lock_order.py).
"""

from __future__ import annotations

import zlib

from django.db import transaction

# PostgreSQL advisory locks on one phone number live in this namespace (the
# first key); the name is historical, inbound routing took them first.
ROUTING_LOCK_NAMESPACE = 0x524F5554


def lock_number(organisation_id: int, number: str) -> None:
    """Hold a lock on one phone number of an organisation until the
    transaction ends: two first texts from a new number arriving at once make
    one lead, not two; two governed texts checked at once cannot both take a
    cap's last place. (SQLite transactions already run one at a time.)"""
    statement = number_lock(organisation_id, number)
    if statement is not None:
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(*statement)


def number_lock(organisation_id: int, number: str) -> tuple[str, list] | None:
    """The statement ``lock_number`` runs (SQL, parameters), for a caller that
    sends it with its next query, in one round trip; None when no lock is
    needed."""
    if transaction.get_connection().vendor != "postgresql":
        return None
    key = zlib.crc32(f"{organisation_id}:{number}".encode()) - 2**31
    return "SELECT pg_advisory_xact_lock(%s, %s)", [ROUTING_LOCK_NAMESPACE, key]
