"""The external reference of an account or opportunity (crm 0019, issue 19): its code in
the system it came from (an export's "Código" or "ID" column), kept so that a re-import
finds the record by it. The rule both services apply, for the web form, the API and
anything else that edits it (the importers set it themselves, matching by it).

One reference names one record of its table, whoever owns it: a re-import matches the
rows by reference among the records its user sees (importers/accounts.py,
opportunities.py), and refuses a row whose reference two of them have. The column is
not unique (crm 0019 indexes it only), so the services refuse a reference that another
record has already; one outside the user's scope is not named.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from erp.auth import in_scope
from erp.db import db
from erp.indexed import indexed_by
from erp.textrules import MESSAGE_ONE_LINE, storable
from erp.validation import Errors, Invalid, text

EXTERNAL_REF_MAX = 60  # String(60), crm 0019


def external_ref(value: Any) -> str | None:
    """A parser: the reference trimmed, one line of at most 60 characters; ``None`` (stored
    NULL) when blank."""
    cleaned = text(value, max_length=EXTERNAL_REF_MAX)
    if cleaned and not storable(cleaned, multiline=False):
        raise Invalid(MESSAGE_ONE_LINE)
    return cleaned or None


def external_ref_in(table, refs: set[str]):
    """A WHERE clause: ``table``'s records with one of the external references (crm
    0019). SQLite is told to read the reference's index (INDEXED BY, in a subquery of
    ids): its statistics count all the records without a reference as one value, so
    before most records have one it takes a reference for one matching the whole table,
    and scanned it for every batch. PostgreSQL knows the share of NULLs: a plain IN."""
    if db.session.get_bind().dialect.name == "sqlite":
        indexed = indexed_by(table, f"ix_{table.name}_external_ref")
        return table.c.id.in_(
            select(indexed.c.id).where(indexed.c.external_ref.in_(sorted(refs))))
    return table.c.external_ref.in_(refs)


def holder_select(model, reference: str, exclude_id: int | None):
    """The id of another record of ``model`` with this reference: its index alone answers
    (the id only, by :func:`external_ref_in`: SQLite, whose statistics count a reference as
    matching most rows while few records have one, may otherwise scan the table for it)."""
    statement = select(model.id).where(external_ref_in(model.__table__, {reference}))
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    return statement.limit(1)


def clean_external_ref(data, out: dict, errors: Errors, *, model, current, user,
                       taken, taken_elsewhere) -> None:
    """``out["external_ref"]`` from ``data`` if it has one; refused (in ``errors``) when
    another record of ``model`` has it: ``taken(record)`` says so for one the user sees,
    ``taken_elsewhere`` (naming none) for one outside their scope. Checked only when the
    reference changes: a record keeps the one it has."""
    if "external_ref" not in data:
        return
    reference = errors.clean("external_ref", external_ref, data["external_ref"])
    if "external_ref" in errors:
        return
    out["external_ref"] = reference
    if reference is None or reference == getattr(current, "external_ref", None):
        return
    other_id = db.session.scalar(holder_select(model, reference, getattr(current, "id", None)))
    if other_id is not None:
        other = db.session.get(model, other_id)
        errors.add("external_ref", taken(other) if in_scope(other.owner_id, user)
                   else taken_elsewhere)
