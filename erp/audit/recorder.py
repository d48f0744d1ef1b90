"""The audit trail's recorder: session events that write an :class:`AuditEntry` for every
creation, change and deletion of an audited model, whichever module it belongs to.

* **Same transaction.** Entries are inserted in ``after_flush``, on the flushing
  connection (as :mod:`erp.imports.changes` does): they commit with the change or roll
  back with it, and a flush writes all of its entries in one INSERT (executemany), so a
  500-row import batch costs one statement, not 500.
* **No query per row.** Values come from what the session already holds: the attribute
  history (old → new), the loaded state of a deleted object. The one exception is a value
  changed on an object whose old value was never loaded (set after a commit expired it):
  ``before_flush`` reads those, one SELECT per model and flush, not per record.
* **Who.** The user of :func:`acting_as` if set (an import in the worker, a command),
  else the logged-in user of the request (Flask-Login, API tokens included), else nobody:
  the system.
* **What is left out.** The primary key (the entry names the record), ``updated_at``,
  ``created_at``, the version counter and the attributes a model lists in
  ``__audit_ignore__``; values of secret-looking attributes (password, token, secret,
  hash) are recorded as changed but never with their value.
* **Bulk statements.** An ORM ``update(Model)``/``delete(Model)`` run through the session
  on an audited model is recorded too (``do_orm_execute``: the rows are read before, and
  for an update after, the statement). Core statements on the bare table are not seen.
"""

from __future__ import annotations

import enum
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import NO_VALUE, PASSIVE_NO_INITIALIZE

from ..db import utcnow
from .models import CREATE, DELETE, UPDATE, AuditEntry

MAX_TEXT = 2000  # characters of one value; longer ones are cut, with "…"
CHUNK = 500
HIDDEN = "[hidden]"
SKIPPED = frozenset({"updated_at", "created_at", "version"})
SECRET = re.compile(r"password|passwd|secret|token|hash|api_?key|private_?key", re.IGNORECASE)
_INFO = "erp_audit"  # Session.info key: what before_flush prepared for after_flush


class Audited:
    """Opt in to the audit trail: ``class Account(Audited, db.Model)``.

    Every creation, change and deletion of the model through the ORM session is then
    recorded. All optional, on the class:

    * ``__audit_name__``: what one record is called ("Payment"), for lists of entries;
    * ``__audit_labels__``: ``{attribute: label}`` shown instead of the attribute name;
    * ``__audit_choices__``: ``{attribute: {stored code: label}}`` for coded values;
    * ``__audit_ignore__``: attributes not worth recording (derived ones, e.g. a search text);
    * ``__audit_parent__``: the foreign-key attribute naming the record whose history also
      lists this one's entries (a payment's ``receivable_id``).
    """

    __audit_name__ = None
    __audit_labels__: dict = {}
    __audit_choices__: dict = {}
    __audit_ignore__: tuple = ()
    __audit_parent__ = None


# --- who ---------------------------------------------------------------------------------

_actor: ContextVar[tuple[int | None, str | None] | None] = ContextVar("erp_audit_actor",
                                                                     default=None)


@contextmanager
def acting_as(user) -> Iterator[None]:
    """Changes made inside are recorded as ``user``'s (``None``: the system's) — for work
    done on someone's behalf outside their request (an import in the worker, a command).
    The id and name are read now: the user object may be expired or detached later."""
    token = _actor.set((user.id, user.name) if user is not None else (None, None))
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> tuple[int | None, str | None]:
    """(user id, user name) to record; (None, None) for the system."""
    explicit = _actor.get()
    if explicit is not None:
        return explicit
    if has_request_context() and current_user.is_authenticated:
        return current_user.id, current_user.name
    return None, None


# --- what is recorded of a model ---------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    table: str
    columns: tuple[str, ...]  # column attributes recorded, in mapper order
    collections: tuple[str, ...]  # many-to-many relationships (tags...), as lists of labels
    hidden: frozenset[str]  # recorded as changed, never with their value
    parent: tuple[str, str] | None  # (foreign-key attribute, the parent's table)


_specs: dict[Mapper, Spec] = {}


def spec_of(mapper: Mapper) -> Spec:
    spec = _specs.get(mapper)
    if spec is None:
        cls = mapper.class_
        skipped = set(SKIPPED) | set(getattr(cls, "__audit_ignore__", ()))
        if mapper.version_id_col is not None:
            skipped.add(mapper.get_property_by_column(mapper.version_id_col).key)
        columns = tuple(a.key for a in mapper.column_attrs  # the key is the entry's own
                        if a.key not in skipped and not any(c.primary_key for c in a.columns))
        collections = tuple(r.key for r in mapper.relationships
                            if r.secondary is not None and r.key not in skipped)
        parent = None
        parent_key = getattr(cls, "__audit_parent__", None)
        if parent_key:
            column = mapper.column_attrs[parent_key].columns[0]
            target = next(iter(column.foreign_keys)).column.table.name
            parent = (parent_key, target)
        spec = _specs[mapper] = Spec(
            table=mapper.local_table.name, columns=columns, collections=collections,
            hidden=frozenset(k for k in (*columns, *collections) if SECRET.search(k)),
            parent=parent)
    return spec


def as_text(value: Any) -> str | None:
    """A value as the entry keeps it: text (ISO dates, UTC times, plain decimals), or None."""
    if value is None:
        return None
    if type(value) is str:  # most values (an import: 25 columns of 100,000 records)
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite: naive UTC
        text = moment.astimezone(UTC).isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, enum.Enum):
        text = str(value.value)
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    else:
        text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _collection_text(objects) -> str | None:
    labels = sorted(str(o) for o in objects if o is not None)
    return as_text(", ".join(labels)) if labels else None


def _label(obj) -> str:
    try:
        text = str(obj)
    except Exception:  # a label that cannot be read must not stop the change itself
        text = ""
    return text[:200]


def _key(values) -> str | None:
    if not values or any(part is None for part in values):
        return None
    return ",".join(str(part) for part in values)


def _entry(action: str, spec: Spec, key: str, label: str, changes: dict, parent) -> dict:
    return {"action": action, "table_name": spec.table, "record_id": key,
            "record_label": label, "changes": changes,
            "parent_table": spec.parent[1] if spec.parent else None,
            "parent_id": as_text(parent) if spec.parent else None}


def _mask(spec: Spec, changes: dict) -> dict:
    for key in spec.hidden & changes.keys():
        changes[key] = [HIDDEN if changes[key][0] is not None else None,
                        HIDDEN if changes[key][1] is not None else None]
    return changes


# --- the three kinds of entry ------------------------------------------------------------


def _created(obj) -> dict | None:
    state = inspect(obj)
    spec = spec_of(state.mapper)
    key = _key(state.mapper.primary_key_from_instance(obj))
    if key is None:
        return None
    changes = {}
    inserted = state.dict  # what was inserted; never a load
    for name in spec.columns:
        value = as_text(inserted.get(name))
        if value is not None:
            changes[name] = [None, value]
    for name in spec.collections:  # (state.attrs would build a view of every attribute)
        value = _collection_text(state.get_history(name, PASSIVE_NO_INITIALIZE).added)
        if value is not None:
            changes[name] = [None, value]
    parent = inserted.get(spec.parent[0]) if spec.parent else None
    return _entry(CREATE, spec, key, _label(obj), _mask(spec, changes), parent)


def _updated(obj, old_values: dict) -> dict | None:
    state = inspect(obj)
    spec = spec_of(state.mapper)
    key = _key(state.identity)
    if key is None:
        return None
    fetched = old_values.get((spec.table, key), {})
    changes = {}
    for name in spec.columns:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else fetched.get(name)
        new = history.added[0] if history.added else None
        old, new = as_text(old), as_text(new)
        if old != new:
            changes[name] = [old, new]
    for name in spec.collections:
        history = state.attrs[name].history
        if history.has_changes():
            old = _collection_text([*history.unchanged, *history.deleted])
            new = _collection_text([*history.unchanged, *history.added])
            if old != new:
                changes[name] = [old, new]
    if not changes:
        return None
    parent = state.dict.get(spec.parent[0]) if spec.parent else None
    return _entry(UPDATE, spec, key, _label(obj), _mask(spec, changes), parent)


def _deleted(obj) -> dict | None:
    """The values the record had, as loaded (an unloaded value is not fetched for this)."""
    state = inspect(obj)
    spec = spec_of(state.mapper)
    key = _key(state.identity)
    if key is None:
        return None
    label = _label(obj)
    changes = {}
    for name in spec.columns:
        value = as_text(state.dict.get(name))
        if value is not None:
            changes[name] = [value, None]
    for name in spec.collections:
        if name in state.dict:
            value = _collection_text(state.dict[name])
            if value is not None:
                changes[name] = [value, None]
    parent = state.dict.get(spec.parent[0]) if spec.parent else None
    return _entry(DELETE, spec, key, label, _mask(spec, changes), parent)


# --- the session events ------------------------------------------------------------------


def _unloaded_old_values(session: Session, dirty: list) -> dict:
    """Old values of attributes set on objects that had not loaded them (expired by a
    commit): one SELECT per model, read before the flush writes the new ones."""
    wanted: dict[Mapper, dict[Any, set[str]]] = defaultdict(dict)
    for obj in dirty:
        state = inspect(obj)
        if state.key is None or len(state.mapper.primary_key) != 1:
            continue
        spec = spec_of(state.mapper)
        missing = {name for name in spec.columns
                   if state.committed_state.get(name, None) is NO_VALUE}
        if missing:
            wanted[state.mapper][state.identity[0]] = missing
    found: dict[tuple[str, str], dict] = {}
    for mapper, by_id in wanted.items():
        names = sorted(set().union(*by_id.values()))
        primary = mapper.primary_key[0]
        columns = [mapper.column_attrs[name].columns[0] for name in names]
        ids = list(by_id)
        for start in range(0, len(ids), CHUNK):
            rows = session.connection().execute(
                select(primary, *columns).where(primary.in_(ids[start:start + CHUNK])))
            for row in rows:
                found[(mapper.local_table.name, str(row[0]))] = dict(
                    zip(names, row[1:], strict=True))
    return found


def _audited(objects) -> list:
    return [obj for obj in objects if isinstance(obj, Audited)]


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context, _instances) -> None:
    new, dirty, deleted = (_audited(session.new), _audited(session.dirty),
                           _audited(session.deleted))
    if not (new or dirty or deleted):
        session.info.pop(_INFO, None)
        return
    # Deleted objects are described now, while they can still load what they lack.
    session.info[_INFO] = {
        "actor": current_actor(),
        "old": _unloaded_old_values(session, dirty),
        "deleted": {id(obj): _deleted(obj) for obj in deleted},
    }


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    prepared = session.info.pop(_INFO, None) or {}
    entries = []
    for obj in _audited(session.new):
        entries.append(_created(obj))
    old_values = prepared.get("old", {})
    for obj in _audited(session.dirty):
        if session.is_modified(obj):
            entries.append(_updated(obj, old_values))
    described = prepared.get("deleted", {})
    for obj in _audited(session.deleted):
        entries.append(described[id(obj)] if id(obj) in described else _deleted(obj))
    write(session, [e for e in entries if e is not None], prepared.get("actor"))


def write(session: Session, entries: list[dict], actor=None) -> None:
    """Insert ``entries`` on the session's connection: one statement for all of them."""
    if not entries:
        return
    stamp(entries, actor)
    # Core insert on the flushing connection: no second flush from inside this one.
    session.connection().execute(AuditEntry.__table__.insert(), entries)
    announce(session, entries)


def stamp(entries: list[dict], actor=None) -> list[dict]:
    """Who and when, on entries about to be inserted (by :func:`write`, or by a bulk
    insert that makes its statements ready before SQLite's write lock: erp.imports.bulk,
    which then calls :func:`announce`)."""
    user_id, user_name = actor if actor is not None else current_actor()
    at = utcnow()
    for entry in entries:
        entry.update(at=at, user_id=user_id, user_name=user_name)
    return entries


def announce(session: Session, entries: list[dict]) -> None:
    """Entries just inserted, to the :func:`on_write` listeners."""
    for listener in _listeners:
        listener(session, entries)


_listeners: list = []


def on_write(listener):
    """Call ``listener(session, entries)`` after each batch of entries is written, on the
    same connection and transaction (erp.webhooks turns them into webhook events): it
    must not flush, and may write with Core statements on ``session.connection()``."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def record_created(session: Session, objects: list, entries: list[dict] | None = None
                   ) -> None:
    """The "create" entries of audited records inserted in bulk, outside the flush
    (:func:`erp.imports.bulk.insert_records`): ``objects`` are transient objects holding
    what was inserted, key included; the entries are those a flush would have written
    (``entries``: :func:`created_entries` of them, worked out before the INSERT)."""
    write(session, created_entries(objects) if entries is None else entries)


def created_entries(objects: list) -> list[dict]:
    """The "create" entries :func:`record_created` writes for ``objects``, not yet
    written: the bulk insert works them out before it takes SQLite's write lock."""
    return [e for e in (_created(obj) for obj in _audited(objects)) if e is not None]


# --- bulk ORM statements -----------------------------------------------------------------


def _rows(session: Session, mapper: Mapper, where) -> dict[str, Any]:
    statement = select(mapper.class_)
    if where is not None:
        statement = statement.where(where)
    return {_key(inspect(o).identity): o for o in session.scalars(statement)}


def _values_now(session: Session, mapper: Mapper, spec: Spec, keys: list[str]) -> dict:
    """The recorded columns of these rows as stored now (Core: no object is touched)."""
    primary = mapper.primary_key[0]
    columns = [mapper.column_attrs[name].columns[0] for name in spec.columns]
    found = {}
    for start in range(0, len(keys), CHUNK):
        ids = [primary.type.python_type(k) for k in keys[start:start + CHUNK]]
        for row in session.connection().execute(
                select(primary, *columns).where(primary.in_(ids))):
            found[str(row[0])] = dict(zip(spec.columns, map(as_text, row[1:]), strict=True))
    return found


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> Any:
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    mapper = state.bind_mapper
    if not issubclass(mapper.class_, Audited) or len(mapper.primary_key) != 1:
        return None
    session, spec = state.session, spec_of(mapper)
    where = state.statement.whereclause
    if state.is_executemany:  # "bulk UPDATE by primary key": the rows its parameters name
        primary = mapper.primary_key[0]
        name = mapper.get_property_by_column(primary).key
        where = primary.in_([row[name] for row in state.parameters if name in row])
    before = {key: (_label(obj), {name: as_text(getattr(obj, name)) for name in spec.columns},
                    getattr(obj, spec.parent[0]) if spec.parent else None)
              for key, obj in _rows(session, mapper, where).items()}
    result = state.invoke_statement()
    entries = []
    after = _values_now(session, mapper, spec, list(before)) if state.is_update else {}
    for key, (label, values, parent) in before.items():
        if state.is_delete:
            changes = {name: [value, None] for name, value in values.items()
                       if value is not None}
            entries.append(_entry(DELETE, spec, key, label, _mask(spec, changes), parent))
        elif key in after:
            changes = {name: [old, after[key][name]] for name, old in values.items()
                       if after[key][name] != old}
            if changes:
                entries.append(_entry(UPDATE, spec, key, label, _mask(spec, changes), parent))
    write(session, entries)
    return result
