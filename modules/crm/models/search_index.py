"""Trigram indexes behind the atomic search, per database.

* SQLite: an external-content FTS5 table ``<table>_fts`` with the ``trigram``
  tokenizer, kept in sync with ``<table>.search_text`` by triggers.
* PostgreSQL: a GIN ``gin_trgm_ops`` index ``ix_<table>_search_trgm`` (pg_trgm).

Both answer "contains this fragment" for fragments of three characters or more
without reading the whole table. They are created next to the table (by
``create_all`` through the events below, and by the module's migration with the
same statements); Alembic's comparison leaves names ending in ``_fts``/``_trgm``
alone (see erp/migrations/env.py).
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event, or_, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table

from erp.validation import LIKE_ESCAPE, like


def sqlite_statements(table: str, column: str = "search_text") -> list[str]:
    """DDL for a table and column named by the models, never by input."""
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
        " END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
        f" INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
    ]


def trigram_index_name(table: str, column: str = "search_text") -> str:
    return f"ix_{table}_search_trgm" if column == "search_text" else f"ix_{table}_{column}_trgm"


def postgresql_statements(table: str, column: str = "search_text") -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE INDEX {trigram_index_name(table, column)} ON {table} "
        f"USING gin ({column} gin_trgm_ops)",
    ]


def install_search_index(table: Table, column: str = "search_text") -> None:
    """Create the index with the table, on whichever of the two databases it is (one
    column a table: its FTS5 table is ``<table>_fts``)."""
    for statement in sqlite_statements(table.name, column):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgresql_statements(table.name, column):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
    event.listen(table, "before_drop",
                 DDL(f"DROP TABLE IF EXISTS {table.name}_fts").execute_if(dialect="sqlite"))


def matching_ids(table: Table, terms: list[str], dialect: str, column: str = "search_text"):
    """A SELECT of the ids whose ``column`` contains any of ``terms`` (each ≥ 3 chars),
    ignoring case as FTS5's trigram tokenizer does: ``search_text`` is kept folded to
    lower case (LIKE); another column as typed (ILIKE, which the trigram index serves)."""
    if dialect == "sqlite":
        fts = f"{table.name}_fts"
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        index = sql_table(fts, sql_column("rowid"))
        return (select(index.c.rowid.label("id"))
                .where(text(f"{fts} MATCH :match").bindparams(match=match)))
    searched = table.c[column]
    return select(table.c.id).where(
        or_(*(searched.ilike(like(term), escape=LIKE_ESCAPE) if column != "search_text"
              else searched.like(like(term), escape=LIKE_ESCAPE) for term in terms))
    )
