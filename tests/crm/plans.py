"""Query plans for structural tests (issue 15): ``EXPLAIN QUERY PLAN`` on SQLite,
``EXPLAIN`` on PostgreSQL with sequential scans forbidden (and sorts, if asked), so a tiny
test table still shows whether an index can answer; never timings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from erp.db import db


def query_plan(statement, *, forbid_sort: bool = False) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.execute(text("SET enable_seqscan = off"))
        if forbid_sort:  # likewise: a Sort node is left only where no index gives the order
            conn.execute(text("SET enable_sort = off"))
        rows = conn.execute(text(f"EXPLAIN {compiled}")).all()
        return "\n".join(row[0] for row in rows)


def sql(statement) -> str:
    """The statement as sent. On PostgreSQL a test table of a few rows (with or without
    autovacuum's statistics) gets whatever join order is cheapest for one row, so the
    tests there check the query's shape, that which makes the good plan the only one."""
    return str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))


def full_scans(plan: str, table: str = "crm_account") -> list[str]:
    """The plan's steps that read all of ``table``, not through an index lookup."""
    if db.engine.dialect.name == "sqlite":
        return [line for line in plan.splitlines()
                if (line.strip() + " ").startswith(f"SCAN {table} ")]
    nodes: list[list[str]] = []  # PostgreSQL: a node's line, then its details
    for line in plan.splitlines():
        if "->" in line or not nodes:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    return [node[0] for node in nodes
            if f" on {table} " in node[0] + " " and "Scan" in node[0]
            and not any("Index Cond" in d or "Recheck Cond" in d for d in node[1:])]


@pytest.fixture
def small_statistics(app, make_account):
    """Planner statistics taken on a few accounts (as after setup, before the table
    grows): SQLite then prefers walking the table in id order to an OR of two lookups."""
    for n in range(3):
        make_account(legal_name=f"Conta {n}", phone=f"(11) 3333-444{n}")
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            db.engine.dispose()  # new connections read the statistics
        yield
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as conn:
                conn.execute(text("DELETE FROM sqlite_stat1"))
            db.engine.dispose()


def forget_statistics() -> None:
    """Drop SQLite's planner statistics (within an app context); new connections plan
    with its defaults, which assume a grown table. Nothing to do on PostgreSQL."""
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
                            ).first():
                conn.execute(text("DELETE FROM sqlite_stat1"))
        db.engine.dispose()


@pytest.fixture
def default_statistics(app):
    """No planner statistics on SQLite (an earlier test's ANALYZE, e.g. the importer's,
    taken on a few rows, makes sorting them look free): its defaults assume a grown table."""
    with app.app_context():
        forget_statistics()
    yield
