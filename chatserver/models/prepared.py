"""Querysets compiled once per process and run again with new parameters.

Django builds and compiles a queryset's SQL anew each time it runs: for the
few queries every inbound text runs (its sender number, its lead, its thread,
who sees it) that costs more CPU than the database spends answering them
(docs/performance.md). A ``Prepared`` query is written as an ordinary
queryset, built once with stand-in values, compiled by Django; later calls
put their values where the stand-ins were and read the rows as Django would
(select_related objects, annotations, converters included).

Only for querysets whose shape does not depend on the values (no ``if``
on them, no list of varying length: key those by ``shape``), whose values
are ints or strings, never None (``filter(x=None)`` is another shape).

On PostgreSQL they also run as server-side prepared statements
(``statement_cursor``): PostgreSQL parses and plans each once per
connection, where it planned the joins of a text's sender number and lead
anew every time, half a millisecond each (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Field
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.db.models.query import get_related_populators

# Stand-ins no query carries as a constant of its own.
_INT_MARK = -7_318_000_000
_STR_MARK = "\x1fprepared-{}\x1f"


def _looks_marked(value) -> bool:
    if isinstance(value, str):
        return "prepared-" in value
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT_MARK - 1000 <= value <= _INT_MARK
    return False


def statement_cursor(using: str = "default"):
    """A cursor of ``using`` (Django's, as ``connection.cursor()``: logged,
    wrapped, its errors Django's) whose statements PostgreSQL prepares: each
    is parsed and planned once per connection, then only bound and run.
    Elsewhere, or with ``DB_PREPARED_STATEMENTS`` off, the usual cursor.

    Its values are bound by PostgreSQL, not written into the SQL, so the
    statement's text is the same every time; for the few statements every
    text runs, not for the ORM's (its SQL is not always written for that)."""
    connection = connections[using]
    cursor = connection.cursor()
    if connection.vendor == "postgresql" and settings.DB_PREPARED_STATEMENTS:
        client = cursor.cursor
        cursor.cursor = _preparing_class()(client.connection)
        client.close()
        cursor.prepares = True
    else:
        cursor.prepares = False
    return cursor


def together(cursor):
    """Statements executed inside go to PostgreSQL in one round trip
    (psycopg's pipeline) on a ``statement_cursor`` that prepares; the
    cursor's rows are then the last statement's."""
    return cursor.connection.pipeline() if cursor.prepares else nullcontext()


_preparing = None


def _preparing_class():
    """psycopg's server-binding cursor, as Django's, preparing every statement
    (made on first use: the backend's module imports psycopg)."""
    global _preparing
    if _preparing is None:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparingCursor(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=True, binary=None):
                return super().execute(query, params, prepare=prepare, binary=binary)

        _preparing = PreparingCursor
    return _preparing


class Prepared:
    """``build(*values)`` -> a QuerySet; ``prepared(*values)`` -> its rows:
    model instances, or tuples for a ``values``/``values_list`` queryset.

    ``kinds`` says what each value is: ``int``, ``str``, or the model field
    it is compared with (a string that field prepares for lookups as it
    would in a ``filter``, e.g. a phone number normalised)."""

    def __init__(self, build: Callable[..., Any], *kinds: type | Field):
        self.build = build
        self.kinds = kinds
        self.compiled: dict[Hashable, _Compiled] = {}

    def __call__(
        self,
        *values,
        shape: Hashable = None,
        before: tuple[str, list] | None = None,
    ) -> list:
        """The rows for these values; ``before``: a statement (SQL and its
        parameters) run first in the same round trip, e.g. a lock to take."""
        return self._compiled(shape).run(self._prepared(values), before)

    def sql(self, *values, shape: Hashable = None) -> tuple[str, list]:
        """The SQL and parameters for these values, unrun: for a statement
        written out around it (a subquery)."""
        compiled = self._compiled(shape)
        return compiled.sql, compiled.params_for(self._prepared(values))

    def _compiled(self, shape: Hashable) -> _Compiled:
        compiled = self.compiled.get(shape)
        if compiled is None:
            marks = [
                _INT_MARK - i if kind is int else _STR_MARK.format(i)
                for i, kind in enumerate(self.kinds)
            ]
            queryset = self.build(*marks) if shape is None else self.build(*marks, shape)
            compiled = self.compiled[shape] = _Compiled(queryset, marks)
        return compiled

    def _prepared(self, values: tuple) -> list:
        return [
            kind.get_prep_value(value) if isinstance(kind, Field) else value
            for kind, value in zip(self.kinds, values, strict=True)
        ]


class _Compiled:
    """One compiled queryset: its SQL, where each value goes, how to read rows."""

    def __init__(self, queryset, marks: list):
        self.db = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        self.slots: list[tuple[int, int]] = []
        for index, value in enumerate(self.params):
            for position, mark in enumerate(marks):
                if type(value) is type(mark) and value == mark:
                    self.slots.append((index, position))
        for value in self.params:
            # A stand-in changed on its way (prepared, cast): its value would not
            # reach the SQL either.
            if _looks_marked(value) and (value, type(value)) not in {
                (mark, type(mark)) for mark in marks
            }:
                raise ValueError(f"a value did not reach the SQL as itself: {self.sql}")
        # Columns an ORDER BY adds past the selected ones (as execute_sql).
        self.trim = self.compiler.col_count if self.compiler.has_extra_select else None
        # How the columns' values are read (as results_iter), found once.
        columns = [s[0] for s in self.compiler.select[0 : self.compiler.col_count]]
        self.converters = self.compiler.get_converters(columns)
        self.values = queryset._fields is not None
        if self.values:
            return
        select, klass_info = self.compiler.select, self.compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.annotations = dict(self.compiler.annotation_col_map or {})

    def params_for(self, values: list) -> list:
        params = list(self.params)
        for index, position in self.slots:
            params[index] = values[position]
        return params

    def run(self, values: list, before: tuple[str, list] | None = None) -> list:
        params = self.params_for(values)
        with statement_cursor(self.db) as cursor:
            if before is None:
                cursor.execute(self.sql, params)
            elif cursor.prepares:
                with together(cursor):
                    cursor.execute(*before)
                    cursor.execute(self.sql, params)
            else:
                cursor.execute(f"{before[0]}; {self.sql}", [*before[1], *params])
                cursor.nextset()  # past the first statement's result
            rows = cursor.fetchall()
        if self.trim is not None:
            rows = [row[: self.trim] for row in rows]
        if self.converters:
            rows = [
                tuple(row)
                for row in self.compiler.apply_converters(rows, self.converters)
            ]
        if self.values:
            return rows
        objects = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class PreparedInsert:
    """The INSERT of one row of ``model``, compiled once: ``insert(obj)``
    stores ``obj`` as ``obj.save()`` would for a new row (its pk, its
    ``auto_now`` fields set; no signals: none of these models has any).

    With ``ignore_conflicts``, a row a unique constraint refuses is not
    stored and ``insert`` returns False (``ON CONFLICT DO NOTHING``), with
    no error to take back: no savepoint needed."""

    def __init__(self, model, ignore_conflicts: bool = False):
        self.model = model
        self.on_conflict = OnConflict.IGNORE if ignore_conflicts else None
        meta = model._meta
        self.fields = [
            f
            for f in meta.local_concrete_fields
            if f is not meta.auto_field and not f.generated
        ]
        self.compiled: dict[str, tuple] = {}

    def insert(self, obj, using: str = "default") -> bool:
        compiled = self.compiled.get(using)
        if compiled is None:
            compiled = self.compiled[using] = self._compile(obj, using)
        compiler, sql = compiled
        params = [
            compiler.prepare_value(field, compiler.pre_save_val(field, obj))
            for field in self.fields
        ]
        if sql is None or any(hasattr(value, "as_sql") for value in params):
            # A value that is an expression: Django's own way, every time.
            returned = self.model._base_manager.using(using)._insert(
                [obj],
                fields=self.fields,
                returning_fields=self.model._meta.db_returning_fields,
                on_conflict=self.on_conflict,
            )
            row = returned[0] if returned else None
        else:
            with statement_cursor(using) as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        if row is None:
            return False
        for field, value in zip(self.model._meta.db_returning_fields, row):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
        return True

    def _compile(self, obj, using: str) -> tuple:
        query = InsertQuery(self.model, on_conflict=self.on_conflict)
        query.insert_values(self.fields, [obj])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = self.model._meta.db_returning_fields
        statements = compiler.as_sql()
        sql, params = statements[0]
        plain = len(statements) == 1 and all(
            not hasattr(value, "as_sql") for value in params
        )
        return compiler, (sql if plain else None)
