"""Sockets' database calls, off the event loop, in a pool of threads."""

import functools
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.db import DEFAULT_DB_ALIAS, connections

# The threads that run sockets' database calls in each process: fewer than the
# connections the process's pool may open (DB_POOL_MAX_SIZE, 20), so that
# requests still find one while thousands of consoles say hello at once.
DATABASE_THREADS = 8
_database_threads = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="console-db")


def database_sync_to_async(func):
    """Run ORM code off the event loop, in a pool of threads.

    Channels' own ``database_sync_to_async`` is thread-sensitive: every
    database call of every socket of the process then waits its turn in one
    single thread, so when thousands of consoles reconnect at once (a deploy)
    each waits for all the hellos before it, long enough for Daphne to drop
    the handshake. Socket handlers run one at a time per socket; across
    sockets, database work needs no order of its own (docs/performance.md).
    SQLite takes one writer at a time (an in-memory test database refuses a
    second one outright), so there it stays in the one thread.
    """
    in_pool = DatabaseSyncToAsync(
        func, thread_sensitive=False, executor=_database_threads
    )
    in_one_thread = DatabaseSyncToAsync(func)

    @functools.wraps(func)
    async def call(*args, **kwargs):
        runner = in_one_thread if on_sqlite() else in_pool
        return await runner(*args, **kwargs)

    return call


def on_sqlite() -> bool:
    """Whether the database is SQLite, read from the settings: ``connection``
    reached from the event loop is a connection object of the socket's own
    (Django keeps one per asyncio context), which each socket then held for
    as long as it was open, about 4 KiB of 57 (docs/performance.md)."""
    return connections.settings[DEFAULT_DB_ALIAS]["ENGINE"].endswith("sqlite3")
