"""CPU of the PostgreSQL backends serving one database, read from /proc.

A text costs the server its web process, its worker and the database work they
ask for; that last part runs in PostgreSQL's backend processes, one per
connection. They are found in ``pg_stat_activity`` (by database, and by
``application_name`` when the harness gave a process one through ``PGAPPNAME``)
and their CPU is read from ``/proc/<pid>/stat`` (PostgreSQL runs on the same
machine here). A backend first seen after sampling began counts from zero: a
connection opened during a run costs that run.
"""

from __future__ import annotations

import psycopg

from bench.services import cpu_seconds


class Backends:
    """Samples the CPU of a database's backends; ``cpu_seconds()`` is the
    total used since the first sample."""

    def __init__(self, database_url: str, application: str | None = None):
        self.database = database_url.rsplit("/", 1)[-1]
        self.application = application
        self.url = database_url
        self.conn: psycopg.Connection | None = psycopg.connect(database_url, autocommit=True)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.samples = 0

    def pids(self) -> list[int]:
        sql = (
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        args: list = [self.database]
        if self.application:
            sql += " AND application_name = %s"
            args.append(self.application)
        if self.conn is None:
            self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
        return [row[0] for row in self.conn.execute(sql, args).fetchall()]

    def take(self) -> None:
        try:
            pids = self.pids()
        except psycopg.OperationalError:
            # PostgreSQL is down or restarted (the fault_postgres scenario):
            # its old backends keep their last reading; look again next time.
            self.close()
            return
        for pid in pids:
            used = cpu_seconds(pid)
            if used is None:
                continue
            if pid not in self.first:
                self.first[pid] = used if self.samples == 0 else 0.0
            self.last[pid] = used
        self.samples += 1

    def cpu_seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def log_statements(log_text: str, database: str, pids: set[int]) -> int:
    """Statements PostgreSQL logged (``log_statement = all``) for these
    backends of this database: one ``statement:`` or ``execute`` line each."""
    count = 0
    for line in log_text.splitlines():
        if f"@{database} " not in line or "LOG:  " not in line:
            continue
        head, _, message = line.partition("LOG:  ")
        if not message.startswith(("statement:", "execute ")):
            continue
        pid = head.split("[", 1)[-1].split("]", 1)[0]
        if pid.isdigit() and int(pid) in pids:
            count += 1
    return count
