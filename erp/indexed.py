"""A table read through one named index on SQLite (``INDEXED BY``), plainly elsewhere
(issue 15: "write the queries so that the good plan is the only plan").

SQLite chooses among indexes by the statistics ``ANALYZE`` last took; on a table where
one user holds most rows, or whose statistics were taken when it was small, it may read
a period from a one-column index and every row from the table rather than the ranges of
a covering index. A statement written for one index's ranges names it: ``INDEXED BY``
makes any other plan an error, not a choice. PostgreSQL has no such clause (nor needs
it: the statements using this are written so that the index's ranges are its cheapest
plan, checked by their plan tests), so there it is the table under the same name.

Usage: ``actions = indexed_by(Action.__table__, "ix_crm_action_user_open")``, then the
statement reads ``actions.c.<column>`` (an alias named as the table, so the SQL reads
``FROM crm_action AS crm_action INDEXED BY ix_crm_action_user_open``). Under the
table's own name, so one per SELECT level: a subquery of its own (as the agenda's two
counts) may have another; a correlated one naming the same table would be shadowed by it.
"""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Alias
from sqlalchemy.sql.visitors import InternalTraversal


class IndexedBy(Alias):
    """``table AS table`` (an alias of the same name); on SQLite ``INDEXED BY index``."""

    _traverse_internals = [*Alias._traverse_internals, ("index", InternalTraversal.dp_string)]
    inherit_cache = True  # the index is part of the cache key (_traverse_internals)
    index: str


def indexed_by(table, index: str) -> IndexedBy:
    alias = IndexedBy._construct(table, name=table.name)
    alias.index = index
    return alias


@compiles(IndexedBy)
def _plain(element, compiler, **kw):
    return compiler.visit_alias(element, **kw)


@compiles(IndexedBy, "sqlite")
def _sqlite(element, compiler, **kw):
    sql = compiler.visit_alias(element, **kw)
    if kw.get("asfrom") and not kw.get("ashint"):
        sql += f" INDEXED BY {compiler.preparer.quote(element.index)}"
    return sql
