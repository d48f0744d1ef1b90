"""Merging two accounts or two contacts (issue 18): the host's part.

The record kinds belong to CRM, which runs the merge (modules/crm/services/merge.py);
every module says through a :class:`~erp.registry.MergeHandler` how its records follow.
Here: :func:`moving`, a handler that moves foreign-key columns from the merged record to
the survivor and back on undo (what most modules need), and :func:`unsupported`, the
enabled modules whose tables point to the merged kind's table but which registered no
handler of that kind: the merge is refused rather than leaving their rows behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy import inspect as sa_inspect

from .db import db
from .migrate import module_tables
from .registry import MergeHandler

CHUNK = 500  # ids per UPDATE ... WHERE id IN (...)


def handlers(kind: str) -> list[MergeHandler]:
    """The enabled modules' handlers of ``kind`` ("account", "contact"), in order."""
    return [handler for handler in current_app.extensions["erp"].items(
        MergeHandler, check_permission=False) if handler.kind == kind]


def _column_name(column) -> str:
    return f"{column.class_.__tablename__}.{column.key}"


def _primary_key(model):
    keys = sa_inspect(model).primary_key
    if len(keys) != 1:
        raise ValueError(f"{model.__name__}: moving() needs a single-column primary key")
    return keys[0]


def _reassign(column, ids: list, value: int) -> None:
    """Point ``column`` of the rows ``ids`` at ``value``, their last-change time kept (a
    move is no edit of theirs, and the undo then restores them exactly). An ORM UPDATE:
    the audit trail records it for an audited model."""
    model = column.class_
    key = _primary_key(model)
    values: dict[str, Any] = {column.key: value}
    if "updated_at" in sa_inspect(model).columns:
        values["updated_at"] = model.updated_at
    for start in range(0, len(ids), CHUNK):
        db.session.execute(update(model).where(key.in_(ids[start:start + CHUNK]))
                           .values(values).execution_options(synchronize_session="fetch"))


def moving(key: str, kind: str, *moves: tuple[Any, Callable[[int], str]],
           conflicts: Callable | None = None, order: int = 100) -> MergeHandler:
    """A handler that moves each ``(column, label)`` of ``moves``: the rows whose foreign
    key ``column`` (``Quote.account_id``) names the merged record are pointed at the
    survivor, their ids logged; the undo points those ids back (those still on the
    survivor). ``label(count)`` is the preview's line ("3 quotes"), shown when some move.
    """

    def preview(survivor, merged) -> list[str]:
        lines = []
        for column, label in moves:
            count = db.session.scalar(select(func.count()).select_from(column.class_)
                                      .where(column == merged.id))
            if count:
                lines.append(label(count))
        return lines

    def move(survivor, merged) -> dict:
        log = {}
        for column, _label in moves:
            ids = list(db.session.scalars(select(_primary_key(column.class_))
                                          .where(column == merged.id)
                                          .order_by(_primary_key(column.class_))))
            if ids:
                _reassign(column, ids, survivor.id)
            log[_column_name(column)] = ids
        return log

    def undo(survivor, merged, log: dict) -> None:
        for column, _label in moves:
            ids = log.get(_column_name(column)) or []
            still = list(db.session.scalars(
                select(_primary_key(column.class_))
                .where(_primary_key(column.class_).in_(ids), column == survivor.id))) \
                if ids else []
            if still:
                _reassign(column, still, merged.id)

    return MergeHandler(key, kind, preview=preview, move=move, undo=undo, conflicts=conflicts,
                        order=order)


def _owner(table: str, modules: Iterable[str]) -> str | None:
    """The enabled module whose tables' names ``table``'s starts with, if any."""
    names = list(modules)
    return next((name for name in names if table in module_tables(name, names, [table])),
                None)


def pointing_to(target_table: str, metadata=None) -> list[tuple[str, Any]]:
    """(module, column) of each foreign key of an enabled module's table that points to
    ``target_table`` ("crm_account"), read from the models' metadata (every enabled
    module's tables), each table's module by its name's prefix."""
    enabled = [module.name for module in current_app.extensions["erp_modules"]]
    found = []
    for table in (metadata or db.metadata).sorted_tables:
        for fk in table.foreign_keys:
            if fk.target_fullname.split(".")[0] == target_table:
                owner = _owner(table.name, enabled)
                if owner is not None:
                    found.append((owner, fk.parent))
    return found


def unsupported(kind: str, target_table: str, metadata=None) -> list[str]:
    """The enabled modules with a table whose foreign key points to ``target_table``
    and no :class:`MergeHandler` of ``kind``: a merge would leave their rows on the record
    merged away, so it is refused."""
    registry = current_app.extensions["erp"]
    handled = {registry.module_of(MergeHandler, handler.key) for handler in
               registry.items(MergeHandler, check_permission=False) if handler.kind == kind}
    missing = []
    for owner, _column in pointing_to(target_table, metadata):
        if owner not in handled and owner not in missing:
            missing.append(owner)
    return missing
