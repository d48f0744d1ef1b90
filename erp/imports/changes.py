"""What an import wrote, recorded as it is flushed, so that it can be taken back.

:class:`ChangeRecorder` listens to the session's flushes while an import writes: every
mapped object inserted becomes a ``create`` row, every object updated an ``update`` row
with the values before and after, column by column (and many-to-many collections, as
lists of ids). The rows are added to the same session, so they commit or roll back with
the change itself. The importer needs to know nothing about it.

:func:`take_back` reverses a job's changes in one transaction, after :func:`blockers`
found nothing in the way: created records are deleted (refused while another record,
not created by the same import, refers to one of them), updated values are put back
(refused where someone changed the value since).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import NO_VALUE

from ..db import db, mappers_by_table, record_key
from .models import CREATE, UPDATE, ImportChange

CHUNK = 500
BLOCKERS_SHOWN = 20
_RECORDER = "erp_import_changes"  # Session.info key: the ChangeRecorder active on it


# --- values as JSON -------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A column value as JSON, its type kept for the way back."""
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {"$json": value}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$decimal" in value:
            return Decimal(value["$decimal"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$json" in value:
            return value["$json"]
        if "$ids" in value:
            return value
    return value


def same(stored: Any, current: Any) -> bool:
    """Whether a value read now is the one recorded (SQLite gives datetimes back naive)."""
    if isinstance(stored, datetime) and isinstance(current, datetime):
        return stored.replace(tzinfo=None) == current.replace(tzinfo=None)
    return stored == current


# --- recording ------------------------------------------------------------------------


def _key_values(mapper, key: str) -> tuple:
    return tuple(column.type.python_type(part) for column, part in
                 zip(mapper.primary_key, key.split(","), strict=True))


def _collection_ids(objects) -> list:
    return sorted(record_key(o) for o in objects if o is not None)


def _changed_values(obj) -> dict[str, list]:
    state = inspect(obj)
    mapper = state.mapper
    changed = {}
    for attr in mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes() or attr.key in _SKIPPED:
            continue
        if not history.deleted or history.deleted[0] is NO_VALUE:
            continue  # the value before was never loaded: nothing to put back
        before = history.deleted[0]
        after = history.added[0] if history.added else None
        changed[attr.key] = [encode(before), encode(after)]
    for relation in mapper.relationships:
        if relation.secondary is None:
            continue
        history = state.attrs[relation.key].history
        if not history.has_changes():
            continue
        before = _collection_ids([*history.unchanged, *history.deleted])
        after = _collection_ids([*history.unchanged, *history.added])
        changed[relation.key] = [{"$ids": before}, {"$ids": after}]
    return changed


# Maintained by the mapper itself, not by the import.
_SKIPPED = frozenset({"updated_at", "version"})


class ChangeRecorder:
    """While active, every flush of ``session`` records its inserts and updates for ``job_id``."""

    def __init__(self, session: Session, job_id: int):
        self.session, self.job_id = session, job_id
        self.created: dict[str, int] = defaultdict(int)  # per table, for statistics

    def __enter__(self) -> ChangeRecorder:
        event.listen(self.session, "after_flush", self._after_flush)
        self.session.info[_RECORDER] = self
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.session, "after_flush", self._after_flush)
        self.session.info.pop(_RECORDER, None)

    def record_created(self, objects: list) -> None:
        """Records inserted without the flush (:mod:`erp.imports.bulk`), key included."""
        by_table: dict[str, list[str]] = defaultdict(list)
        for obj in objects:
            key = record_key(obj)
            if key is not None:
                by_table[inspect(obj).mapper.local_table.name].append(key)
        for table, keys in by_table.items():
            self.record_created_keys(table, keys)

    def record_created_keys(self, table: str, keys: list[str]) -> None:
        """Records of ``table`` inserted without the flush, by their keys as text."""
        if keys:
            self.session.connection().execute(ImportChange.__table__.insert(),
                                              self.created_rows(table, keys))

    def created_rows(self, table: str, keys: list[str]) -> list[dict]:
        """What :meth:`record_created_keys` inserts (counted as inserted now)."""
        self.created[table] += len(keys)
        return [{"job_id": self.job_id, "table_name": table, "record_key": key,
                 "action": CREATE, "values": None} for key in keys]

    def _after_flush(self, session: Session, _context) -> None:
        rows = []
        for obj in session.new:
            if isinstance(obj, ImportChange):
                continue
            mapper = inspect(obj).mapper
            key = record_key(obj)
            if key is not None:
                rows.append({"job_id": self.job_id, "table_name": mapper.local_table.name,
                             "record_key": key, "action": CREATE, "values": None})
                self.created[mapper.local_table.name] += 1
        for obj in session.dirty:
            if isinstance(obj, ImportChange) or not session.is_modified(obj):
                continue
            changed = _changed_values(obj)
            mapper = inspect(obj).mapper
            key = record_key(obj)
            if changed and key is not None:
                rows.append({"job_id": self.job_id, "table_name": mapper.local_table.name,
                             "record_key": key, "action": UPDATE, "values": changed})
        if rows:
            # Core insert on the flushing connection: no second flush from inside this one.
            session.connection().execute(ImportChange.__table__.insert(), rows)


def note_created(session: Session, table: str, keys: list[str]) -> None:
    """Records of ``table`` inserted in bulk, by their keys as text: noted as created by
    the import running on ``session``, if any (nothing to do outside an import)."""
    recorder = session.info.get(_RECORDER)
    if recorder is not None:
        recorder.record_created_keys(table, keys)


def created_rows(session: Session, table: str, keys: list[str]) -> list[dict]:
    """The rows :func:`note_created` inserts into ``ImportChange``'s table (none outside an
    import), for a bulk insert that makes its statements ready before it runs them."""
    recorder = session.info.get(_RECORDER)
    return recorder.created_rows(table, keys) if recorder is not None and keys else []


# --- taking back ----------------------------------------------------------------------


@dataclass
class Blocker:
    """Why a job cannot be undone, one record at a time, for the user."""

    text: str


def _changes(job_id: int, action: str):
    return db.session.execute(
        select(ImportChange.table_name, ImportChange.record_key, ImportChange.values)
        .where(ImportChange.job_id == job_id, ImportChange.action == action)
        .order_by(ImportChange.id)).all()


def _created(job_id: int) -> dict[str, set[str]]:
    created: dict[str, set[str]] = defaultdict(set)
    for table, key, _values in _changes(job_id, CREATE):
        created[table].add(key)
    return created


def _label(mapper, obj) -> str:
    name = mapper.class_.__name__
    return f"{name} {obj}" if obj is not None else name


def blockers(job_id: int) -> list[str]:
    """What stands in the way of undoing the job, as sentences (at most 20): records that
    now refer to records it created, and values changed since it wrote them."""
    found: list[str] = []
    mappers = mappers_by_table()
    created = _created(job_id)
    # 1. References to created records from records the import did not create.
    for table in db.metadata.sorted_tables:
        mapper = mappers.get(table.name)
        for foreign_key in table.foreign_keys:
            target = foreign_key.column.table.name
            if target not in created or mapper is None:
                continue  # an association table (tags...) goes with the record itself
            if getattr(mapper.class_, "__import_undo_follows__", False):
                continue  # so does a model that says so (deleted with it: ON DELETE CASCADE)
            target_mapper = mappers.get(target)
            if target_mapper is None or len(target_mapper.primary_key) != 1:
                continue
            ids = sorted(_key_values(target_mapper, key)[0] for key in created[target])
            own = created.get(table.name, set())
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                for obj in db.session.scalars(select(mapper.class_).where(
                        foreign_key.parent.in_(chunk))):
                    if record_key(obj) in own:
                        continue
                    referred = db.session.get(target_mapper.class_,
                                              getattr(obj, foreign_key.parent.key))
                    found.append(_("%(record)s refers to %(target)s, which this import "
                                   "created.", record=_label(mapper, obj),
                                   target=_label(target_mapper, referred)))
                    if len(found) >= BLOCKERS_SHOWN:
                        return found
    # 2. Values the import wrote that someone has changed since.
    for table, key, values in _changes(job_id, UPDATE):
        mapper = mappers.get(table)
        obj = db.session.get(mapper.class_, _key_values(mapper, key)) if mapper else None
        if obj is None:
            continue  # deleted since: nothing to put back
        for attribute, (_before, after) in (values or {}).items():
            if not same(decode(after), _current(obj, attribute)):
                found.append(_("%(record)s: %(field)s was changed after the import.",
                               record=_label(mapper, obj), field=attribute))
                if len(found) >= BLOCKERS_SHOWN:
                    return found
    return found


def _current(obj, attribute: str) -> Any:
    value = getattr(obj, attribute)
    if isinstance(value, list) and inspect(obj).mapper.relationships.get(attribute):
        return {"$ids": _collection_ids(value)}
    return value


def _restore(obj, attribute: str, before: Any) -> None:
    relation = inspect(obj).mapper.relationships.get(attribute)
    if relation is not None:
        target = relation.mapper
        ids = [_key_values(target, key) for key in before["$ids"]]
        setattr(obj, attribute, [db.session.get(target.class_, ident) for ident in ids])
    else:
        setattr(obj, attribute, before)


def take_back(job_id: int) -> tuple[int, int]:
    """Reverse the job's changes in the caller's transaction (the caller commits);
    returns (deleted, restored). Call :func:`blockers` first."""
    mappers = mappers_by_table()
    restored = 0
    for table, key, values in reversed(_changes(job_id, UPDATE)):
        mapper = mappers.get(table)
        obj = db.session.get(mapper.class_, _key_values(mapper, key)) if mapper else None
        if obj is None:
            continue
        for attribute, (before, _after) in (values or {}).items():
            _restore(obj, attribute, decode(before))
        restored += 1
    db.session.flush()
    deleted = 0
    created = _changes(job_id, CREATE)
    # Newest first: records created later may refer to earlier ones, never the reverse.
    for start in range(len(created), 0, -CHUNK):
        chunk = created[max(0, start - CHUNK):start]
        by_table: dict[str, list[str]] = defaultdict(list)
        for table, key, _values in reversed(chunk):
            by_table[table].append(key)
        for table, keys in by_table.items():
            mapper = mappers.get(table)
            if mapper is None:
                continue
            columns = mapper.primary_key
            idents = [_key_values(mapper, key) for key in keys]
            condition = (columns[0].in_([i[0] for i in idents]) if len(columns) == 1
                         else tuple_(*columns).in_(idents))
            for obj in db.session.scalars(select(mapper.class_).where(condition)):
                db.session.delete(obj)
                deleted += 1
        db.session.flush()
    db.session.execute(ImportChange.__table__.delete().where(ImportChange.job_id == job_id))
    return deleted, restored
