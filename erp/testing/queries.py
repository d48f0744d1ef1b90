"""Counting the SQL statements a request or a block of code runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from ..db import db


@contextmanager
def captured(app) -> Iterator[list[tuple[str, object]]]:
    """The (statement, parameters) run meanwhile on the app's engine."""
    with app.app_context():
        engine = db.engine
    seen: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@contextmanager
def count_queries(app) -> Iterator[list[str]]:
    """The SQL statements run meanwhile (on the app's engine), as a list."""
    with app.app_context():
        engine = db.engine
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter.statements
    finally:
        event.remove(engine, "before_cursor_execute", counter)


class QueryCounter:
    """An engine listener (``before_cursor_execute``) keeping each statement."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        self.statements.append(statement)


def queries_for(app, client, url: str, status: int = 200) -> int:
    """How many SQL statements answering ``url`` runs."""
    with count_queries(app) as statements:
        response = client.get(url)
        response.get_data()  # a streamed body runs its queries while it is read
        assert response.status_code == status, response.status_code
    return len(statements)
