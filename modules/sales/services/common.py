"""What the sales services share: scope, numbers, lines, timeline entries, refusals.

Every change is one transaction: the service commits, or raises :class:`InvalidInput`
after writing nothing (the caller rolls back its session). Documents belong to an
account; a user reaches them only through an account of their record scope (404 else).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask import abort
from sqlalchemy import or_, select

from erp import documents
from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.validation import Errors
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from ..models import Product, SalesEvent

NOTES_MAX = 5000

# Timeline kinds (sales_event.kind)
EV_QUOTE_SENT, EV_QUOTE_ACCEPTED, EV_QUOTE_REFUSED = (
    "sales.quote_sent", "sales.quote_accepted", "sales.quote_refused")
EV_ORDER_CONFIRMED = "sales.order_confirmed"
EV_INVOICE_ISSUED, EV_INVOICE_CANCELLED = "sales.invoice_issued", "sales.invoice_cancelled"


def real_user(user):
    """The user object itself, not Flask-Login's ``current_user`` proxy: receivers may keep
    it beyond the request."""
    getter = getattr(user, "_get_current_object", None)
    return getter() if getter is not None else user


def refuse(message) -> InvalidInput:
    return InvalidInput({"__all__": [str(message)]})


def next_number(kind: str) -> int:
    """The next number of a kind of sales document ("quote", "order", "invoice"), in this
    transaction: the host's sequence "sales.<kind>"."""
    return documents.next_number(f"sales.{kind}")


def in_scope(stmt, model, user):
    """Restrict a SELECT of a sales document to the accounts the user may see."""
    return stmt.join(Account, Account.id == model.account_id).where(account_scope(user))


def get_or_404(model, record_id: int, user):
    record = db.session.scalar(in_scope(select(model), model, user)
                               .where(model.id == record_id))
    if record is None:
        abort(404)
    return record


# --- lines ----------------------------------------------------------------------------


def _catalog_product(product_id: int) -> Product | None:
    return db.session.get(Product, product_id)


def clean_lines(rows: Iterable[Mapping[str, Any]], errors: Errors) -> list[dict]:
    """Validate document lines ("lines-<i>-<field>" errors) with the host's one routine,
    products taken from the catalog; empty rows are skipped."""
    return documents.clean_lines(rows, errors, product=_catalog_product)


def set_lines(document, line_class, lines: list[dict]) -> None:
    document.lines = [line_class(position=i, **line) for i, line in enumerate(lines)]
    document.total = sum((line["total"] for line in lines), Decimal("0.00"))


def copy_lines(lines, line_class) -> list:
    return [line_class(position=line.position, product_id=line.product_id,
                       description=line.description, quantity=line.quantity,
                       unit_price=line.unit_price, discount=line.discount, total=line.total)
            for line in lines]


def add_event(account_id: int, kind: str, document_type: str, document, user) -> None:
    """A timeline entry; its title is the document's number (the label comes from the kind)."""
    db.session.add(SalesEvent(account_id=account_id, at=utcnow(), kind=kind,
                              document_type=document_type, document_id=document.id,
                              title=document.display_number,
                              user_id=user.id if user is not None else None))


# --- search -------------------------------------------------------------------------


def search_number(model, query: str):
    """Documents whose number matches "123", "PR 123", "NF000123"..."""
    digits = "".join(ch for ch in query if ch in "0123456789")  # not "²": int() refuses it
    if not digits or len(digits) > 9:
        return None
    return or_(model.number == int(digits))
