"""Service orders: who sees them, their input (items, hours, totals), opening, editing and
the status moves (open -> in progress -> done, or cancelled).

Every function validates first and raises ``InvalidInput`` (per-field messages) before
writing anything, then writes, flushes, sends its signal inside the transaction and
commits: a receiver's ``Refused`` rolls everything back and comes out as
``InvalidInput({"__all__": [...]})``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import abort
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db, utcnow
from erp.documents import clean_lines
from erp.errors import InvalidInput
from erp.formats import parse_decimal
from erp.i18n import module_i18n
from erp.money import CENT, MAX_MONEY, QUANTITY_STEP
from erp.signals import send_vetoable
from erp.validation import Errors, Invalid, record, text
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from .. import signals
from ..labels import ORDER_STATUS_LABELS
from ..models import (
    CANCELLED,
    DONE,
    EV_ORDER_CANCELLED,
    EV_ORDER_FINISHED,
    EV_ORDER_OPENED,
    IN_PROGRESS,
    OPEN,
    TRANSITIONS,
    ServiceOrder,
    ServiceOrderItem,
)
from .common import add_event, insert_numbered

_l = module_i18n(__name__).lazy_gettext

# The line routine's messages that service words its own way.
ITEM_MESSAGES = {"description": _l("Describe the item."),
                 "unit_price_required": _l("Give the unit price.")}
MAX_DESCRIPTION = 5000
MAX_ITEMS = 200
MAX_HOURS = Decimal("100000")



# --- scope -------------------------------------------------------------------------------


def orders_in_scope(user):
    """SELECT of the orders the user may see: those of accounts in the user's scope."""
    return (select(ServiceOrder).join(Account, Account.id == ServiceOrder.account_id)
            .where(account_scope(user)))


def get_order_or_404(order_id: int, user) -> ServiceOrder:
    order = db.session.scalar(orders_in_scope(user).where(ServiceOrder.id == order_id))
    if order is None:
        abort(404)
    return order


# --- input -------------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _clean_items(rows: Iterable[Mapping[str, Any]], errors: Errors) -> list[dict]:
    """The order's items ("items-<i>-<field>" errors) with the host's one line routine: no
    catalog, none required (an order may be hours only); the total is checked with the
    hours."""
    return clean_lines(rows, errors, field="items", required=False, max_lines=MAX_ITEMS,
                       max_total=None, messages=ITEM_MESSAGES)


def _number(value: Any, *, maximum: Decimal, message: Any,
            places: Decimal | None = None) -> Decimal:
    """A parser: a number from 0 to below ``maximum`` (blank: 0) with no more decimals than
    ``places`` has, when given; kept as typed."""
    try:
        number = parse_decimal(value) or Decimal(0)
    except ValueError:
        raise Invalid(message) from None
    if not 0 <= number < maximum or (places is not None and number != number.quantize(places)):
        raise Invalid(message)
    return number


def clean_order(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate order input; returns clean values with the totals, or raises InvalidInput."""
    errors = Errors()
    out: dict[str, Any] = {}
    out["description"] = errors.clean(
        "description", text, data.get("description"), required=True,
        max_length=MAX_DESCRIPTION, message=_l("Describe the service to be done."))
    message = _l("Choose the responsible technician.")
    technician = errors.clean("technician_id", record, data.get("technician_id"), model=User,
                              required=True, message=message)
    if technician is not None and not technician.active:
        errors.add("technician_id", message)
    elif technician is not None:
        out["technician_id"] = technician.id
    out["hours"] = errors.clean("hours", _number, data.get("hours"), maximum=MAX_HOURS,
                                places=QUANTITY_STEP,
                                message=_l("Use a number of hours such as 2,5."))
    out["hourly_rate"] = errors.clean("hourly_rate", _number, data.get("hourly_rate"),
                                      maximum=MAX_MONEY,
                                      message=_l("Use a price such as 1.234,56."))
    out["items"] = _clean_items(data.get("items") or [], errors)
    errors.raise_if_any()
    out["items_total"] = sum((i["total"] for i in out["items"]), Decimal(0))
    out["hours_total"] = _money(out["hours"] * out["hourly_rate"])
    out["total"] = out["items_total"] + out["hours_total"]
    if out["total"] >= MAX_MONEY:
        raise InvalidInput({"__all__": [_l("The order's total is too large.")]})
    return out


def _apply(order: ServiceOrder, clean: dict[str, Any]) -> None:
    for field in ("description", "technician_id", "hours", "hourly_rate", "items_total",
                  "hours_total", "total"):
        setattr(order, field, clean[field])
    order.items = [ServiceOrderItem(position=i, **item) for i, item in enumerate(clean["items"])]


# --- orders --------------------------------------------------------------------------------


def create_order(account: Account, data: Mapping[str, Any], *, user) -> ServiceOrder:
    """Open a service order on ``account`` (already checked to be in the user's scope)."""
    clean = clean_order(data)
    order = ServiceOrder(account_id=account.id, status=OPEN, created_by_id=user.id)
    _apply(order, clean)
    insert_numbered(order, "service.order")
    add_event(EV_ORDER_OPENED, account.id, order.display_number, user=user, order=order,
              amount=order.total)
    send_vetoable(signals.order_opened, order, account_id=account.id, user=user)
    db.session.commit()
    return order


def update_order(order: ServiceOrder, data: Mapping[str, Any], *, user) -> ServiceOrder:
    if not order.editable:
        raise InvalidInput({"__all__": [_l("A done or cancelled order cannot be changed.")]})
    clean = clean_order(data)
    _apply(order, clean)
    db.session.commit()
    return order


def change_status(order: ServiceOrder, status: str, *, user) -> ServiceOrder:
    """Move an order along open -> in progress -> done, or to cancelled; others refused."""
    if status not in TRANSITIONS.get(order.status, ()):
        raise InvalidInput({"status": [_l(
            "A %(current)s order cannot become %(new)s.",
            current=str(ORDER_STATUS_LABELS.get(order.status, order.status)).lower(),
            new=str(ORDER_STATUS_LABELS.get(status, status)).lower())]})
    now = utcnow()
    order.status = status
    if status == IN_PROGRESS:
        order.started_at = now
    elif status == DONE:
        order.finished_at = now
        add_event(EV_ORDER_FINISHED, order.account_id, order.display_number, user=user,
                  order=order, amount=order.total)
        send_vetoable(signals.order_finished, order, account_id=order.account_id,
                      total=order.total, user=user)
    elif status == CANCELLED:
        order.cancelled_at = now
        add_event(EV_ORDER_CANCELLED, order.account_id, order.display_number, user=user,
                  order=order)
    db.session.commit()
    return order
