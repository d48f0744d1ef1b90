"""New records inserted in a few statements, as the session's flush would insert them one
by one: for an importer's ``write`` (issue 15: 100,000 accounts in a minute).

:func:`insert_records` takes the values of new records of one model (what the service
validated) and inserts them with one executemany per table, after what a flush does per
record:

* **Ids in bulk**, before the INSERT: on SQLite the next ids after the largest one (the
  write transaction holds the database's single write lock, so no one else can take
  them; what SQLite itself would give a rowid table), on PostgreSQL ``nextval`` of the
  table's sequence, n at once. The statement then needs no RETURNING, which SQLAlchemy
  would otherwise run row by row to match ids to rows.
* **The model's own upkeep**: each record is built as a transient object (never added to
  the session) and the mapper's ``before_insert`` listeners run on it, so derived columns
  (an account's ``search_text``) are computed by the same function as for a form's save;
  column defaults and the version counter are set as the flush sets them. Triggers and
  indexes on the table (the search index) are the database's, whatever inserts the row.
* **Many-to-many links** (an account's tags): one executemany into the association table.
* **The audit trail** (:mod:`erp.audit.recorder`): the same "create" entries a flush
  writes, in one statement.
* **The import's own record** (:mod:`erp.imports.changes`): when an import is running,
  the records are noted as created by it, so that undo and a failed batch take them back.

Updates stay with the ORM (``setattr`` on loaded objects, flushed by the runner).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import instance_dict, instance_state
from sqlalchemy.sql.schema import Table

from ..audit.models import AuditEntry
from ..audit.recorder import Audited, announce, created_entries, stamp
from ..db import db
from .changes import created_rows
from .models import ImportChange


def allocate_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` new primary-key values of ``table`` (a single integer key), ascending.

    SQLite: inside a write transaction only (the caller holds the write lock, as every
    import batch does), so the range after the largest id is this transaction's.
    PostgreSQL: from the column's sequence (SERIAL or IDENTITY), one round trip."""
    if count <= 0:
        return []
    (column,) = table.primary_key.columns
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, :column)) "
                 "FROM generate_series(1, :count)"),
            {"table": table.name, "column": column.name, "count": count}).scalars()
        return sorted(rows)
    if connection.dialect.name != "sqlite":
        raise NotImplementedError(f"no bulk ids on {connection.dialect.name}")
    last = connection.execute(select(func.max(column))).scalar() or 0
    if table.kwargs.get("sqlite_autoincrement"):
        sequence = connection.execute(
            text("SELECT seq FROM sqlite_sequence WHERE name = :table"),
            {"table": table.name}).scalar()
        last = max(last, sequence or 0)
    return list(range(last + 1, last + 1 + count))


def _default(column) -> Any:
    """The value a flush gives a column left unset: its Python-side default, if any."""
    default = column.default
    if default is None or getattr(default, "is_sequence", False):
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a no-argument callable to take a context
    return None


class _Fill:
    """What a flush sets on a new record of one mapper, worked out once per batch rather
    than per record: the key's attribute, the version counter, the Python-side defaults;
    and how the transient object is built (see :func:`_prepared`)."""

    def __init__(self, mapper: Mapper):
        (key_column,) = mapper.primary_key
        self.key = mapper.get_property_by_column(key_column).key
        self.version = None
        self.defaults = []
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            if column.primary_key:
                continue
            if mapper.version_id_col is not None and column is mapper.version_id_col:
                self.version = (attr.key, mapper.version_id_generator)
            elif column.server_default is None and column.default is not None:
                self.defaults.append((attr.key, column))
        manager = mapper.class_manager
        self.manager = manager
        # The constructor's work, without it: the declarative constructor only sets each
        # keyword (refusing unknown ones) and the mapper's own init hook only checks that
        # mappers are configured (done: this one is in use). With a constructor of the
        # model's own, another init listener or a polymorphic identity, the constructor.
        self.plain = (manager.original_init is mapper.registry.constructor
                      and mapper.polymorphic_on is None
                      and all(getattr(listener, "__module__", "") == "sqlalchemy.orm.mapper"
                              for listener in manager.dispatch.init))
        # Column attributes nobody listens to being set (no validator, no "set" event):
        # set on a transient object, their value only lands in its __dict__, so it is put
        # there directly. Relationships and the rest through setattr, as the constructor.
        self.direct = frozenset(attr.key for attr in mapper.column_attrs
                                if not manager[attr.key].dispatch.set)
        self.attributes = frozenset(manager)


def _prepared(mapper: Mapper, connection: Connection, values: Mapping[str, Any], ident: int,
              fill: _Fill | None = None):
    """A transient object with ``values``, its id, defaults and version, after the
    mapper's ``before_insert`` listeners ran on it: what a flush would insert.

    Built as ``Model(**values)`` builds it, without the per-attribute events the
    constructor goes through for column values (issue 15: a third of this function's
    time at 100,000 accounts); the listeners then read and set attributes as usual."""
    fill = fill or _Fill(mapper)
    if fill.plain:
        obj = fill.manager.new_instance()
        given, direct = instance_dict(obj), fill.direct
        for key, value in values.items():
            if key in direct:
                given[key] = value
            elif key in fill.attributes:
                setattr(obj, key, value)
            else:
                raise TypeError(f"{key!r} is an invalid keyword argument for "
                                f"{mapper.class_.__name__}")
    else:
        obj = mapper.class_(**values)
        given, direct = instance_dict(obj), frozenset()
    more = [(fill.key, ident)]  # the key, and what a flush fills in
    if fill.version is not None and fill.version[0] not in given:
        more.append((fill.version[0], fill.version[1](None)))
    more += [(key, _default(column)) for key, column in fill.defaults if key not in given]
    for key, value in more:
        if key in direct:
            given[key] = value
        else:
            setattr(obj, key, value)
    mapper.dispatch.before_insert(mapper, connection, instance_state(obj))  # as the flush
    return obj


def _link_rows(relation, obj) -> list[dict]:
    targets = obj.__dict__.get(relation.key) or ()
    rows = []
    for target in targets:
        row = {}
        for parent_column, link_column in relation.synchronize_pairs:
            row[link_column.key] = getattr(obj, relation.parent.get_property_by_column(
                parent_column).key)
        for target_column, link_column in relation.secondary_synchronize_pairs:
            row[link_column.key] = getattr(target, relation.mapper.get_property_by_column(
                target_column).key)
        rows.append(row)
    return rows


def insert_records(model: type, records: Iterable[Mapping[str, Any]]) -> list[int]:
    """Insert new ``model`` records, one dict of attribute values each (column attributes,
    and many-to-many relationships as lists of objects), in the session's transaction;
    returns their ids, in order. Nothing is added to the session."""
    records = list(records)
    if not records:
        return []
    session = db.session()
    mapper: Mapper = inspect(model)
    table = mapper.local_table
    connection = session.connection()
    ids = allocate_ids(connection, table, len(records))
    fill = _Fill(mapper)
    objects = [_prepared(mapper, connection, values, ident, fill)
               for values, ident in zip(records, ids, strict=True)]
    columns = [(attr.key, attr.columns[0].key, attr.columns[0].server_default is not None)
               for attr in mapper.column_attrs if attr.columns[0].table is table]
    # A column left unset is NULL (as the flush leaves it out), except one with a server
    # default, which must be left out to get it: one executemany per set of such columns
    # given (one, unless a model has server defaults that some rows set).
    groups: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for obj in objects:
        state = obj.__dict__
        row = {name: state.get(key) for key, name, server in columns
               if not server or key in state}
        groups[tuple(row)].append(row)
    # Every statement made ready, parameters included (the audit entries, the import's
    # record), before the first INSERT: on SQLite that statement takes the write lock (an
    # import's batch checks and builds without it), held until the batch commits.
    statements = [_ready(connection, table, rows) for rows in groups.values()]
    for relation in mapper.relationships:
        if relation.secondary is None:
            continue
        links = [row for obj in objects for row in _link_rows(relation, obj)]
        if links:
            statements.append(_ready(connection, relation.secondary, links))
    entries = created_entries(objects) if issubclass(model, Audited) else []
    if entries:
        statements.append(_ready(connection, AuditEntry.__table__, stamp(entries)))
    noted = created_rows(session, table.name, [str(ident) for ident in ids])
    if noted:
        statements.append(_ready(connection, ImportChange.__table__, noted))
    for statement in statements:
        statement()
    if entries:
        announce(session, entries)  # as the flush's audit entries are (webhooks)
    return ids


def _ready(connection: Connection, table: Table, rows: list[dict]) -> Callable[[], Any]:
    """The executemany of ``rows`` into ``table``, to run later. On SQLite its parameters
    are bound now, as SQLAlchemy binds them (each column type's bind processing: dates,
    JSON), and it runs as that statement with them: the write lock, which an import's
    first INSERT takes, is then held for SQLite's work alone (issue 15: a sixth of it was
    binding, JSON encoding included, 200 times for 100,000 accounts). Elsewhere, and for
    rows that leave a column to a default, SQLAlchemy's executemany when run."""
    dialect = connection.dialect
    keys = list(rows[0]) if rows else []
    if dialect.name == "sqlite" and keys and all(len(row) == len(keys) for row in rows):
        compiled = table.insert().compile(dialect=dialect, column_keys=keys)
        names = compiled.positiontup or []
        binds = [compiled.binds.get(name) for name in names]
        each_once = len(names) == len(keys) and all(b is not None for b in binds) and {
            bind.key for bind in binds} == set(keys)  # each column bound, none defaulted
        if compiled.positional and each_once:
            processors = [(bind.key, bind.type.dialect_impl(dialect).bind_processor(dialect))
                          for bind in binds]
            parameters = [tuple(process(row[key]) if process else row[key]
                                for key, process in processors) for row in rows]
            sql = compiled.string
            return lambda: connection.exec_driver_sql(sql, parameters)
    return lambda: connection.execute(table.insert(), rows)
