"""Database indexes that exist only where the database can use them."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db.backends.ddl_references import Statement

# Search parses text with PostgreSQL's 'simple' configuration: no stemming and
# no stop words, so names, numbers and texts in any language match as typed
# (prefix matching covers plurals: "quote" finds "quotes").
SEARCH_CONFIG = "simple"


class FullTextIndex(GinIndex):
    """A GIN index over a ``SearchVector`` on PostgreSQL, and nothing on other
    databases (SQLite searches with LIKE and has no to_tsvector).

    Queries use the index only when they build the very same expression: use
    ``chatserver.queries.search.vector`` for both.
    """

    def _no_op(self) -> Statement:
        # The schema editor executes whatever it is given; this does nothing.
        return Statement("SELECT 1")

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return self._no_op()
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return self._no_op()
        return super().remove_sql(model, schema_editor, **kwargs)
