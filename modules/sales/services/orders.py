"""Orders: confirmed (from an accepted quote or typed in), delivered or cancelled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select

from erp.clock import local_today
from erp.db import db
from erp.i18n import module_i18n
from erp.validation import Errors, text
from erp.validation import date as a_date
from modules.crm.models import Account

from .. import signals
from ..models import (
    INVOICE_ISSUED,
    ORDER_CANCELLED,
    ORDER_CONFIRMED,
    ORDER_DELIVERED,
    Invoice,
    Order,
    OrderLine,
)
from .common import (
    EV_ORDER_CONFIRMED,
    NOTES_MAX,
    add_event,
    clean_lines,
    get_or_404,
    next_number,
    real_user,
    refuse,
    set_lines,
)

_l = module_i18n(__name__).lazy_gettext


def get_order_or_404(order_id: int, user) -> Order:
    return get_or_404(Order, order_id, user)


def order_confirmed(order: Order, user) -> None:
    signals.order_confirmed.send(order, account_id=order.account_id,
                                 document=order.display_number, total=order.total,
                                 quote_id=order.quote_id, user=real_user(user))


def create_order(account: Account, data: Mapping[str, Any], *, user) -> Order:
    errors = Errors()
    order_date = errors.clean("order_date", a_date, data.get("order_date")) \
        or local_today(user)
    notes = errors.clean("notes", text, data.get("notes"), max_length=NOTES_MAX) or None
    lines = clean_lines(data.get("lines") or (), errors)
    errors.raise_if_any()
    order = Order(account_id=account.id, user_id=user.id, status=ORDER_CONFIRMED,
                  order_date=order_date, notes=notes, number=next_number("order"))
    set_lines(order, OrderLine, lines)
    db.session.add(order)
    db.session.flush()
    add_event(account.id, EV_ORDER_CONFIRMED, "order", order, user)
    db.session.flush()
    order_confirmed(order, user)
    db.session.commit()
    return order


def deliver_order(order: Order, *, user) -> Order:
    if order.status != ORDER_CONFIRMED:
        raise refuse(_l("Only a confirmed order can be delivered."))
    order.status = ORDER_DELIVERED
    db.session.commit()
    return order


def cancel_order(order: Order, *, user) -> Order:
    if order.status == ORDER_CANCELLED:
        raise refuse(_l("This order is already cancelled."))
    if order.issued_invoice is not None:
        raise refuse(_l("Cancel the order's invoice first."))
    order.status = ORDER_CANCELLED
    db.session.commit()
    return order


def uninvoiced_orders(account_id: int) -> list[Order]:
    """The account's orders that can be invoiced: not cancelled, no issued invoice."""
    invoiced = select(Invoice.order_id).where(Invoice.status == INVOICE_ISSUED)
    return list(db.session.scalars(
        select(Order).where(Order.account_id == account_id, Order.status != ORDER_CANCELLED,
                            Order.id.not_in(invoiced))
        .order_by(Order.order_date.desc(), Order.id.desc()).limit(100)))


# On every view of an account: built once, the account bound when run (issue 15).
LAST_ORDER_DATE = select(func.max(Order.order_date)).where(
    Order.account_id == bindparam("account_id"), Order.status != ORDER_CANCELLED)


def last_order_date(account_id: int) -> date | None:
    """The account page's "Last order": the latest date of an order not cancelled."""
    return db.session.scalar(LAST_ORDER_DATE, {"account_id": account_id})
