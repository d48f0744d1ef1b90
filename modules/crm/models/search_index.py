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

from sqlalchemy import DDL, Table, event, literal_column, or_, select, text

from erp.validation import LIKE_ESCAPE, like


def sqlite_statements(table: str) -> list[str]:
    """DDL for a table name that comes from the models, never from input."""
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
        " END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
        f" INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
    ]


def postgresql_statements(table: str) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE INDEX ix_{table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)",
    ]


def install_search_index(table: Table) -> None:
    """Create the index with the table, on whichever of the two databases it is."""
    for statement in sqlite_statements(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgresql_statements(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
    event.listen(table, "before_drop",
                 DDL(f"DROP TABLE IF EXISTS {table.name}_fts").execute_if(dialect="sqlite"))


def matching_ids(table: Table, terms: list[str], dialect: str):
    """A SELECT of the ids whose search_text contains any of ``terms`` (each ≥ 3 chars)."""
    if dialect == "sqlite":
        fts = f"{table.name}_fts"
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        return (
            select(literal_column("rowid").label("id"))
            .select_from(text(fts))
            .where(text(f"{fts} MATCH :match").bindparams(match=match))
        )
    column = table.c.search_text
    return select(table.c.id).where(
        or_(*(column.like(like(term), escape=LIKE_ESCAPE) for term in terms))
    )
