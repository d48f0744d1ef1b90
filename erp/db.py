"""The one declarative Base every module's models derive from, and shared mixins."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, MetaData, String, any_, bindparam, event, inspect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column
from sqlalchemy.sql.sqltypes import NullType

# Explicit constraint names, so Alembic can alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest integer primary key PostgreSQL stores (INTEGER); larger ids in URLs or input
# must be refused before a query, or the database answers with an error, not "not found".
MAX_ID = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


# SQLite, the embedded default, has one writer at a time. How it is made to behave:
#
# * WAL journal: readers never wait for the writer, nor the writer for readers.
# * A busy timeout: a writer that finds the lock taken waits for it (up to
#   SQLITE_BUSY_TIMEOUT_MS) instead of failing at once with "database is locked".
# * Write transactions start with BEGIN IMMEDIATE, which takes the write lock first
#   (waiting for it). A transaction that began reading with a plain BEGIN and then writes
#   after another connection committed fails at once with SQLITE_BUSY, busy timeout or
#   not: its snapshot is stale. Requests other than GET/HEAD/OPTIONS, and code inside
#   :func:`writing`, are write transactions; the rest read without any lock.
#
# pysqlite's own transaction handling is switched off (isolation_level None) so that
# SQLAlchemy's "begin" event below emits the BEGIN; that is also what makes SAVEPOINTs work.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Reads through a memory map instead of a read() system call per page: a page of a large
# database's index probes (a manager's scope checked account by account) costs a third
# less. Address space, not memory: the pages are the operating system's file cache.
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# None: decided by the request's method; True/False: set by writing()/background_work().
_writing: ContextVar[bool | None] = ContextVar("erp_writing", default=None)
# True inside bulk_work(): SQLite connections begin transactions set for bulk writing.
_bulk: ContextVar[bool] = ContextVar("erp_bulk", default=False)
_PRAGMAS_INFO = "erp_bulk_pragmas"  # connection.info: whether they are set for bulk work


@contextmanager
def bulk_work() -> Iterator[None]:
    """SQLite: transactions begun inside are set for bulk writing (an import), on their
    connection, which gets the usual settings back at its next transaction outside:

    * **No memory map**: pages are read with read(). Bulk work touches much of a large
      file once (an import of 100,000 rows walks the index pages it inserts into); each
      mapped page it touches stays in the process's resident memory, up to the map's
      size, where read() pages stay in the operating system's file cache.
    * **synchronous=NORMAL**: a commit appends to the WAL without waiting for the disk
      (5 ms a commit here; an import commits about 600 times for 100,000 rows). The WAL
      is synced at the next checkpoint or the next commit outside (any other user's
      save, the import's own end): a power cut may lose the last such commits, never
      corrupt the database nor reorder them. What an import committed so is taken back
      if it is lost halfway (its job stays running, and is reaped); the job's last
      commit, outside, makes it all durable.
    * **Statement journals in memory** (temp_store=MEMORY): each row an executemany
      inserts is a statement of its own, which journals the pages it changes that the
      transaction had already changed (with the search index's and the duplicate keys'
      triggers, ~20 pages a row), in case it must be undone alone; past 64 KiB SQLite
      spills that journal to a temporary file, written and truncated row after row (3 GB
      of writes for 30,000 accounts). In memory it is one row's pages at a time.
    """
    token = _bulk.set(True)
    try:
        yield
    finally:
        _bulk.reset(token)


@contextmanager
def _intent(value: bool) -> Iterator[None]:
    token = _writing.set(value)
    try:
        yield
    finally:
        _writing.reset(token)


def writing():
    """Transactions begun inside take SQLite's write lock at BEGIN (no-op elsewhere)."""
    return _intent(True)


@contextmanager
def write_transaction() -> Iterator[None]:
    """End the session's current transaction (committing it) and run the block in a new
    one that takes SQLite's write lock first: for service code that reads, then writes,
    outside a request (the command line, a task), where a read snapshot taken earlier
    would make the write fail at once if someone else wrote meanwhile."""
    db.session.commit()
    with writing():
        yield


def background_work():
    """Code that manages its own transactions (background tasks): they begin as reads,
    whatever request may be around, unless begun inside :func:`writing`."""
    return _intent(False)


def _write_intent() -> bool:
    intent = _writing.get()
    if intent is not None:
        return intent
    return has_request_context() and request.method not in SAFE_METHODS


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record) -> None:
    """Per connection: foreign keys (SQLite ignores them unless asked), WAL, busy timeout."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES:d}")
        # PRAGMA optimize's ANALYZE samples at most this many rows per index: milliseconds
        # instead of a scan that holds the write lock (refresh_statistics analyses in full).
        cursor.execute("PRAGMA analysis_limit=1000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")
        # No PRAGMA optimize at open: within analysis_limit it would write sampled
        # statistics over refresh_statistics' full ones (see there); the worker refreshes
        # them hourly, and setup, upgrades, demo data and imports right away.
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        bulk = _bulk.get()
        if connection.info.get(_PRAGMAS_INFO, False) != bulk:
            connection.exec_driver_sql(f"PRAGMA mmap_size={0 if bulk else SQLITE_MMAP_BYTES:d}")
            connection.exec_driver_sql(f"PRAGMA synchronous={'NORMAL' if bulk else 'FULL'}")
            connection.exec_driver_sql(f"PRAGMA temp_store={'MEMORY' if bulk else 'DEFAULT'}")
            connection.info[_PRAGMAS_INFO] = bulk
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent() else "BEGIN")


def refresh_statistics(tables: Iterable[str] = (), *, connection: Connection | None = None
                       ) -> None:
    """Bring the query planner's statistics up to date: ``ANALYZE`` the named tables (or
    every table), then on SQLite ``PRAGMA optimize``. Without statistics SQLite guesses,
    and on a large database guesses wrong (a scan of 200,000 accounts for a look-up by
    CNPJ); PostgreSQL's autovacuum analyses eventually, this does it now.

    Run after setup, an upgrade, the demo data, an import, and hourly by the worker.
    On SQLite a full ANALYZE, not within the connection's ``analysis_limit``: sampled
    statistics misjudge columns with few values (a user's actions counted as 1,000 of
    300,000), and the API's actions list went from 29 ms to 2.7 s on them; the full one
    reads every index once (0.7 s at 100,000 accounts and 300,000 events). In
    ``connection``'s transaction when given, else in a transaction of its own (SQLite:
    the write lock first, as ANALYZE writes ``sqlite_stat1``). Table names must come
    from the models."""
    if connection is None:
        with writing(), db.engine.begin() as own:
            refresh_statistics(tables, connection=own)
        return
    quote = connection.dialect.identifier_preparer.quote
    statements = [f"ANALYZE {quote(table)}" for table in tables] or ["ANALYZE"]
    if connection.dialect.name != "sqlite":
        for statement in statements:
            connection.exec_driver_sql(statement)
        return
    limit = connection.exec_driver_sql("PRAGMA analysis_limit").scalar()
    connection.exec_driver_sql("PRAGMA analysis_limit=0")
    try:
        for statement in statements:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("PRAGMA optimize")  # the other tables, also in full
    finally:
        connection.exec_driver_sql(f"PRAGMA analysis_limit={int(limit):d}")


def database_busy(error: BaseException) -> bool:
    """Whether a database error means "busy, try again" (SQLite's lock, PostgreSQL's
    lock timeout or serialization failure) rather than a bug."""
    text = str(getattr(error, "orig", error)).lower()
    return any(marker in text for marker in (
        "database is locked", "database table is locked", "could not serialize",
        "lock timeout", "deadlock detected"))


def record_key(obj) -> str | None:
    """A mapped object's primary key as text ("12", or "12,3" for a composite key), for
    tables that refer to records of any model (import changes, the audit trail); None
    while it has no key yet."""
    identity = inspect(obj).mapper.primary_key_from_instance(obj)
    if any(part is None for part in identity):
        return None
    return ",".join(str(part) for part in identity)


def mappers_by_table() -> dict[str, Mapper]:
    """Every mapped model by its table's name."""
    return {mapper.local_table.name: mapper for mapper in db.Model.registry.mappers}


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    """Creation and last-change times, in UTC."""

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


def one_of(column, values: Iterable):
    """``column IN values`` for a batch of values (an import's 500 CNPJs): on PostgreSQL
    as ``= ANY(%s)`` with the values as one array parameter. As IN (…) each value is a
    parameter, and a statement of 500 of them is parsed anew by the driver and planned
    anew by the server on every batch (500 tax ids at 200K accounts: 5.8 -> 2.4 ms)."""
    values = sorted(set(values))
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    kind = column.type
    if isinstance(kind, NullType):  # an untyped expression (func.lower(...)): its values'
        kind = Integer() if values and isinstance(values[0], int) else String()
    return column == any_(bindparam(None, values, type_=ARRAY(kind)))
