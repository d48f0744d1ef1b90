"""Merging two accounts, or two contacts, into one (issue 18), and undoing a merge.

The survivor keeps its id and takes the field values picked from either record; every
enabled module moves its records from the merged one to it through its
:class:`~erp.registry.MergeHandler` (CRM's own: ../merge.py); the merged record is kept,
archived, with ``merged_into_id`` (its page then leads to the survivor). One transaction:
a refusal or any handler's failure leaves both records and every module's rows as they
were. The log (:class:`~..models.MergeLog`) keeps both rows as they were and what each
handler moved, so an undo within :data:`UNDO_DAYS` restores both exactly.

Who may merge (a manager or an admin, both records in their scope) is the caller's check
(views/merge.py, api/merge.py): this module trusts the records it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Date, DateTime, Numeric, select, update

from erp import merging
from erp.db import db, utcnow
from erp.errors import Conflict, InvalidInput
from erp.i18n import module_i18n

from .. import labels
from ..models import Account, Contact, MergeLog
from ..models.merge import KIND_ACCOUNT, KIND_CONTACT

_ = module_i18n(__name__).gettext

UNDO_DAYS = 30
MODELS = {KIND_ACCOUNT: Account, KIND_CONTACT: Contact}
FIELD_LABELS = {KIND_ACCOUNT: labels.ACCOUNT_FIELDS, KIND_CONTACT: labels.CONTACT_FIELDS}
# Columns that are not the record's data: its identity, state and derived values.
NOT_PICKED = frozenset({"id", "archived", "merged_into_id", "search_text", "search_words",
                        "version", "created_at", "updated_at", "tax_id_root", "name_key"})
SURVIVOR, MERGED = "survivor", "merged"


# --- rows as JSON, and back --------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode(column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    if isinstance(column.type, Numeric):
        return Decimal(value)
    return value


def dump(model, record_id: int) -> dict:
    """The record's row as stored, column by column (JSON values)."""
    table = model.__table__
    row = db.session.execute(select(table).where(table.c.id == record_id)).mappings().one()
    return {key: _encode(value) for key, value in row.items()}


def _restore_row(model, record_id: int, row: dict) -> None:
    """Write ``row`` (a :func:`dump`) back over the record, every column as it was (its
    version and last change too): a Core UPDATE, past the ORM's version counter."""
    table = model.__table__
    values = {name: _decode(table.c[name], value) for name, value in row.items()
              if name != "id" and name in table.c}
    db.session.execute(update(table).where(table.c.id == record_id).values(values))


# --- what the page compares --------------------------------------------------------------


def picked_fields(kind: str) -> list[str]:
    """The record's data columns one picks a value of, in the table's order."""
    table = MODELS[kind].__table__
    return [column.name for column in table.columns if column.name not in NOT_PICKED]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value is False


@dataclass(frozen=True)
class FieldChoice:
    name: str
    label: Any
    survivor: Any
    merged: Any
    default: str  # SURVIVOR or MERGED

    @property
    def differ(self) -> bool:
        return self.survivor != self.merged


def default_pick(survivor, merged, name: str) -> str:
    """The non-empty value; of two, the most recently changed record's."""
    mine, theirs = getattr(survivor, name), getattr(merged, name)
    if mine == theirs or _empty(theirs):
        return SURVIVOR
    if _empty(mine):
        return MERGED
    return MERGED if (merged.updated_at or datetime.min) > (survivor.updated_at or
                                                            datetime.min) else SURVIVOR


def compare(kind: str, survivor, merged) -> list[FieldChoice]:
    names = FIELD_LABELS[kind]
    return [FieldChoice(name, names.get(name, name.replace("_", " ").capitalize()),
                        getattr(survivor, name), getattr(merged, name),
                        default_pick(survivor, merged, name)) for name in picked_fields(kind)]


def picks_from(kind: str, survivor, merged, chosen: dict[str, str]) -> dict[str, str]:
    """Each field's side: the one ``chosen`` says (SURVIVOR or MERGED), else the default."""
    return {name: chosen[name] if chosen.get(name) in (SURVIVOR, MERGED)
            else default_pick(survivor, merged, name) for name in picked_fields(kind)}


# --- refusals and preview ----------------------------------------------------------------


def _kind_label(kind: str) -> str:
    return _("accounts") if kind == KIND_ACCOUNT else _("contacts")


def problems(kind: str, survivor, merged) -> list[str]:
    """Why these two may not be merged (empty: they may)."""
    if survivor.id == merged.id:
        return [_("A record cannot be merged into itself.")]
    found = []
    for record in (survivor, merged):
        if record.merged_into_id is not None:
            found.append(_("%(name)s was already merged into another record.",
                           name=str(record)))
    for module in merging.unsupported(kind, MODELS[kind].__tablename__):
        found.append(_("Module %(module)s does not support merging %(kind)s: its records "
                       "would be left behind.", module=module, kind=_kind_label(kind)))
    for handler in merging.handlers(kind):
        if handler.conflicts is not None:
            found += [str(message) for message in handler.conflicts(survivor, merged)]
    return found


def preview(kind: str, survivor, merged) -> list[tuple[str, list[str]]]:
    """(handler key, lines): what each module moves to the survivor."""
    shown = []
    for handler in merging.handlers(kind):
        lines = [str(line) for line in handler.preview(survivor, merged)]
        if lines:
            shown.append((handler.key, lines))
    return shown


# --- merge ---------------------------------------------------------------------------------


def _check_versions(survivor, merged, versions: tuple[int | None, int | None]) -> None:
    for record, expected in zip((survivor, merged), versions, strict=True):
        if expected is not None and record.version != expected:
            raise Conflict(current_version=record.version)


def merge(kind: str, survivor, merged, chosen: dict[str, str], user, *,
          versions: tuple[int | None, int | None] = (None, None)) -> MergeLog:
    """Merge ``merged`` into ``survivor`` in one transaction (committed), or refuse
    (:class:`InvalidInput`, :class:`Conflict`: nothing changed, the session rolled back)."""
    try:
        log = _merge(kind, survivor, merged, chosen, user, versions)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return log


SINGLE_HOLDER = {"external_ref"}  # services/external_refs.py: one record per reference


def _merge(kind, survivor, merged, chosen, user, versions) -> MergeLog:
    model = MODELS[kind]
    _check_versions(survivor, merged, versions)
    refused = problems(kind, survivor, merged)
    if refused:
        raise InvalidInput({"__all__": refused})
    before = {SURVIVOR: dump(model, survivor.id), MERGED: dump(model, merged.id)}
    picks = picks_from(kind, survivor, merged, chosen)
    taken = {name: getattr(merged, name) for name, side in picks.items()
             if side == MERGED and getattr(merged, name) != getattr(survivor, name)}
    # A value only one record may hold (the tax id, unique in the table; the external
    # reference, by the services' rule) the survivor takes is first let go by the merged.
    unique = {c.name for c in model.__table__.columns if c.unique} | SINGLE_HOLDER
    for name in taken.keys() & unique:
        setattr(merged, name, None)
    merged.archived = True
    merged.merged_into_id = survivor.id
    db.session.flush()
    for name, value in taken.items():
        setattr(survivor, name, value)
    db.session.flush()
    moves = {handler.key: handler.move(survivor, merged) for handler in merging.handlers(kind)}
    db.session.flush()
    db.session.refresh(survivor)
    log = MergeLog(kind=kind, survivor_id=survivor.id, merged_id=merged.id,
                   user_id=getattr(user, "id", None), at=utcnow(), data={
                       "survivor": before[SURVIVOR], "merged": before[MERGED],
                       "picked": {name: _encode(value) for name, value in taken.items()},
                       "survivor_version": survivor.version, "moves": moves})
    db.session.add(log)
    db.session.flush()
    _emit(f"crm.{kind}.merged", {"merge_id": log.id, "survivor_id": survivor.id,
                                 "merged_id": merged.id})
    return log


def _emit(key: str, data: dict) -> None:
    """The webhook event of the merge, in its transaction (when some module declares it)."""
    from erp.registry import WebhookEvent

    registry = current_app.extensions["erp"]
    if registry.declared(WebhookEvent) and registry.get(WebhookEvent, key) is not None:
        from erp.webhooks import emit

        emit(key, data)


# --- undo ----------------------------------------------------------------------------------


def undo_deadline(log: MergeLog) -> datetime:
    at = log.at if log.at.tzinfo else log.at.replace(tzinfo=utcnow().tzinfo)
    return at + timedelta(days=UNDO_DAYS)


def undo_refusal(log: MergeLog) -> str | None:
    """Why the merge can no longer be undone, or None."""
    if log.undone_at is not None:
        return _("This merge was already undone.")
    if utcnow() > undo_deadline(log):
        return _("A merge can be undone within %(days)d days only.", days=UNDO_DAYS)
    merged = db.session.get(MODELS[log.kind], log.merged_id)
    if merged is None or merged.merged_into_id != log.survivor_id:
        return _("The merged record is no longer there to restore.")
    return None


def undo(log: MergeLog, user) -> None:
    """Put both records back as they were before the merge, and every moved record on the
    merged one again, in one transaction (committed)."""
    try:
        _undo(log, user)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _undo(log: MergeLog, user) -> None:
    refusal = undo_refusal(log)
    if refusal:
        raise InvalidInput({"__all__": [refusal]})
    model = MODELS[log.kind]
    survivor = db.session.get(model, log.survivor_id)
    merged = db.session.get(model, log.merged_id)
    data = log.data
    unchanged = survivor.version == data["survivor_version"]
    by_key = {handler.key: handler for handler in merging.handlers(log.kind)}
    for key in reversed(list(data["moves"])):
        if key in by_key:
            by_key[key].undo(survivor, merged, data["moves"][key])
    db.session.flush()
    # Through the ORM first, so the audit trail records what the undo changed: the fields
    # the merge set (those nobody changed since), then the merged record's.
    table = model.__table__
    for name, after in data["picked"].items():
        if _encode(getattr(survivor, name)) == after:
            setattr(survivor, name, _decode(table.c[name], data[SURVIVOR][name]))
    db.session.flush()
    for name in ("archived", "merged_into_id", *data["picked"]):
        setattr(merged, name, _decode(table.c[name], data[MERGED][name]))
    db.session.flush()
    # Then every column exactly (versions and times included): the survivor's if nobody
    # changed it after the merge, the merged record's (kept archived) always.
    if unchanged:
        _restore_row(model, survivor.id, data[SURVIVOR])
    _restore_row(model, merged.id, data[MERGED])
    log.undone_at = utcnow()
    log.undone_by_id = getattr(user, "id", None)
    db.session.flush()
    db.session.expire_all()


# --- reading the log -----------------------------------------------------------------------


def merges_into(kind: str, survivor_id: int, limit: int = 10) -> list[MergeLog]:
    """The survivor's merges, newest first."""
    return list(db.session.scalars(
        select(MergeLog).where(MergeLog.kind == kind, MergeLog.survivor_id == survivor_id)
        .order_by(MergeLog.at.desc(), MergeLog.id.desc()).limit(limit)))


def merge_of(kind: str, merged_id: int) -> MergeLog | None:
    """The merge that took ``merged_id`` away (the newest, not undone)."""
    return db.session.scalar(
        select(MergeLog).where(MergeLog.kind == kind, MergeLog.merged_id == merged_id,
                               MergeLog.undone_at.is_(None))
        .order_by(MergeLog.id.desc()).limit(1))
