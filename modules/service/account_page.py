"""Service's contributions to CRM's account page: the Service tab, the timeline source,
the "Open service orders" figure and the Create entry."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from flask import render_template, url_for
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from erp.auth.models import User
from erp.db import db
from erp.i18n import module_i18n
from erp.registry import TimelineEvent, TimelineSource
from erp.timeline import after_cursor, first_page_built_once
from modules.crm.kinds import AccountStat, AccountTab, CreateAction

from .models import (
    ACTIVE,
    EV_INVOICE_CANCELLED,
    EV_INVOICE_ISSUED,
    EV_ORDER_CANCELLED,
    EV_ORDER_FINISHED,
    EV_ORDER_OPENED,
    ServiceEvent,
    ServiceInvoice,
    ServiceOrder,
)
from .permissions import READ, WRITE

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

SHOWN = 20  # orders and invoices listed in the tab (each); the lists page through all

# --- the tab -----------------------------------------------------------------------------
# Its count is the number of service orders PLUS the number of service invoices of the
# account (every status): two COUNTs on the (account_id, status) indexes.


def _count_orders(account) -> int:
    return db.session.scalar(select(func.count(ServiceOrder.id))
                             .where(ServiceOrder.account_id == account.id))


def _count_invoices(account) -> int:
    return db.session.scalar(select(func.count(ServiceInvoice.id))
                             .where(ServiceInvoice.account_id == account.id))


def count_tab(account) -> int:
    return _count_orders(account) + _count_invoices(account)


def render_tab(account, args) -> str:
    orders = db.session.scalars(
        select(ServiceOrder).where(ServiceOrder.account_id == account.id)
        .order_by(ServiceOrder.id.desc()).limit(SHOWN)).all()
    invoices = db.session.scalars(
        select(ServiceInvoice).where(ServiceInvoice.account_id == account.id)
        .options(selectinload(ServiceInvoice.installments))
        .order_by(ServiceInvoice.id.desc()).limit(SHOWN)).all()
    order_total, invoice_total = _count_orders(account), _count_invoices(account)
    return render_template(
        "service/tab.html", account=account, orders=orders, invoices=invoices,
        order_total=order_total, invoice_total=invoice_total,
        total=order_total + invoice_total, shown=SHOWN,
        can_write=current_user.has_permission(WRITE))


TAB = AccountTab("service", _l("Service"), render=render_tab, count=count_tab, order=60,
                 permission=READ)

# --- the timeline source ------------------------------------------------------------------

SOURCE_KEY = "service.events"
KINDS = {
    EV_ORDER_OPENED: _l("Service order opened"),
    EV_ORDER_FINISHED: _l("Service order finished"),
    EV_ORDER_CANCELLED: _l("Service order cancelled"),
    EV_INVOICE_ISSUED: _l("Service invoice issued"),
    EV_INVOICE_CANCELLED: _l("Service invoice cancelled"),
}
ICONS = {
    EV_ORDER_OPENED: "tools", EV_ORDER_FINISHED: "check2-square",
    EV_ORDER_CANCELLED: "x-square", EV_INVOICE_ISSUED: "receipt",
    EV_INVOICE_CANCELLED: "receipt-cutoff",
}


def _title(kind: str, document: str) -> str:
    return {
        EV_ORDER_OPENED: _("Service order %(doc)s opened", doc=document),
        EV_ORDER_FINISHED: _("Service order %(doc)s finished", doc=document),
        EV_ORDER_CANCELLED: _("Service order %(doc)s cancelled", doc=document),
        EV_INVOICE_ISSUED: _("Service invoice %(doc)s issued", doc=document),
        EV_INVOICE_CANCELLED: _("Service invoice %(doc)s cancelled", doc=document),
    }.get(kind, document)


def fetch_events(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    """At most ``limit`` events strictly after ``cursor``, newest first: one indexed query."""
    wanted = [kind for kind in kinds if kind in KINDS]
    if not wanted:
        return []
    rows = db.session.execute(_events_select(wanted, cursor),
                              {"account_id": account_id, "limit": limit})
    return [TimelineEvent(at=row.at, kind=row.kind, title="", url=None,
                          icon=ICONS.get(row.kind, "tools"), actor=row.name, id=row.id,
                          describe=partial(_describe, row)) for row in rows]


@first_page_built_once
def _events_select(wanted: tuple[str, ...], cursor):
    """The account and the page size bound when run; the first page's statement built once
    per set of kinds (issue 15)."""
    return (select(ServiceEvent.id, ServiceEvent.at, ServiceEvent.kind, ServiceEvent.document,
                   ServiceEvent.order_id, ServiceEvent.invoice_id, User.name)
            .outerjoin(User, User.id == ServiceEvent.user_id)
            .where(ServiceEvent.account_id == bindparam("account_id"),
                   ServiceEvent.kind.in_(wanted),
                   after_cursor(ServiceEvent.at, ServiceEvent.id, SOURCE_KEY, cursor))
            .order_by(ServiceEvent.at.desc(), ServiceEvent.id.desc())
            .limit(bindparam("limit")))


def _describe(row, event: TimelineEvent) -> TimelineEvent:
    """The text of a shown event (formatting waits for it: issue 15)."""
    if row.invoice_id is not None:
        url = url_for("service.invoice", invoice_id=row.invoice_id)
    elif row.order_id is not None:
        url = url_for("service.order", order_id=row.order_id)
    else:
        url = None
    return replace(event, title=_title(row.kind, row.document), url=url)


SOURCE = TimelineSource(SOURCE_KEY, KINDS, fetch_events, permission=READ, order=60)

# --- the stat and the Create entry ------------------------------------------------------------


# On every view of an account: built once, the account bound when run (issue 15).
OPEN_ORDERS = select(func.count(ServiceOrder.id)).where(
    ServiceOrder.account_id == bindparam("account_id"), ServiceOrder.status.in_(ACTIVE))


def open_orders(account) -> int:
    """Orders still open or in progress: a COUNT on the (account_id, status) index."""
    return db.session.scalar(OPEN_ORDERS, {"account_id": account.id})


STAT = AccountStat("service.open_orders", _l("Open service orders"), open_orders,
                   kind="number", order=60, permission=READ)

# The page calls url_for("service.new_order", account_id=<id>, next=<the account page>).
CREATE = CreateAction("service.new_order", _l("Service order"), permission=WRITE, order=60,
                      icon="tools")
