"""What sales adds to the account page: the Sales tab, the timeline source, two figures
in the header, and the Create entries."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from flask import render_template, url_for
from flask_login import current_user
from sqlalchemy import bindparam, func, select, union_all

from erp.auth.models import User
from erp.db import db
from erp.i18n import module_i18n
from erp.registry import TimelineEvent, TimelineSource
from erp.timeline import after_cursor, first_page_built_once
from modules.crm.kinds import AccountStat, AccountTab, CreateAction

from . import services
from .models import Invoice, Order, Quote, SalesEvent
from .permissions import READ, WRITE

_l = module_i18n(__name__).lazy_gettext

SHOWN = 20  # documents of each kind listed in the tab; the lists have them all

# --- the tab -----------------------------------------------------------------------------


def count_documents(account) -> int:
    """Quotes + orders + invoices of the account: one query over three account indexes."""
    counts = union_all(
        *(select(func.count(model.id).label("n")).where(model.account_id == account.id)
          for model in (Quote, Order, Invoice))).subquery()
    return int(db.session.scalar(select(func.coalesce(func.sum(counts.c.n), 0))) or 0)


def _latest(model, account_id: int):
    return db.session.scalars(select(model).where(model.account_id == account_id)
                              .order_by(model.id.desc()).limit(SHOWN)).all()


def render_tab(account, args) -> str:
    quotes, orders, invoices = (_latest(m, account.id) for m in (Quote, Order, Invoice))
    return render_template("sales/tab.html", account=account, quotes=quotes, orders=orders,
                           invoices=invoices, total=count_documents(account), shown=SHOWN,
                           can_write=current_user.has_permission(WRITE))


TAB = AccountTab("sales", _l("Sales"), render=render_tab, count=count_documents, order=30,
                 permission=READ)

# --- the timeline source -------------------------------------------------------------------

SOURCE_KEY = "sales.documents"
KINDS = {
    services.EV_QUOTE_SENT: _l("Quote sent"),
    services.EV_QUOTE_ACCEPTED: _l("Quote accepted"),
    services.EV_QUOTE_REFUSED: _l("Quote refused"),
    services.EV_ORDER_CONFIRMED: _l("Order confirmed"),
    services.EV_INVOICE_ISSUED: _l("Invoice issued"),
    services.EV_INVOICE_CANCELLED: _l("Invoice cancelled"),
}
ICONS = {"quote": "file-earmark-text", "order": "cart-check", "invoice": "receipt"}
ENDPOINTS = {"quote": ("sales.quote", "quote_id"), "order": ("sales.order", "order_id"),
             "invoice": ("sales.invoice", "invoice_id")}


def fetch_events(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    """At most ``limit`` sales events strictly after ``cursor``, newest first: one query on
    the (account_id, at, id) index."""
    wanted = [kind for kind in kinds if kind in KINDS]
    if not wanted:
        return []
    rows = db.session.execute(_events_select(wanted, cursor),
                              {"account_id": account_id, "limit": limit})
    return [TimelineEvent(at=row.at, kind=row.kind, title="", url=None,
                          icon=ICONS.get(row.document_type, "bag"), actor=row.name, id=row.id,
                          describe=partial(_describe, row))
            for row in rows]


@first_page_built_once
def _events_select(wanted: tuple[str, ...], cursor):
    """The account and the page size bound when run; the first page's statement built once
    per set of kinds (issue 15)."""
    stmt = (select(SalesEvent.id, SalesEvent.at, SalesEvent.kind, SalesEvent.document_type,
                   SalesEvent.document_id, SalesEvent.title, User.name)
            .outerjoin(User, User.id == SalesEvent.user_id)
            .where(SalesEvent.account_id == bindparam("account_id"),
                   after_cursor(SalesEvent.at, SalesEvent.id, SOURCE_KEY, cursor))
            .order_by(SalesEvent.at.desc(), SalesEvent.id.desc())
            .limit(bindparam("limit")))
    if len(wanted) < len(KINDS):
        stmt = stmt.where(SalesEvent.kind.in_(wanted))
    return stmt


def _describe(row, event: TimelineEvent) -> TimelineEvent:
    """The text of a shown event (formatting waits for it: issue 15)."""
    endpoint, arg = ENDPOINTS.get(row.document_type, (None, None))
    url = url_for(endpoint, **{arg: row.document_id}) if endpoint else None
    return replace(event, title=f"{KINDS[row.kind]}: {row.title}", url=url)


SOURCE = TimelineSource(SOURCE_KEY, KINDS, fetch_events, permission=READ, order=30)

# --- the stats ------------------------------------------------------------------------------


def last_order(account):
    return services.last_order_date(account.id)


def invoiced_this_year(account):
    return services.invoiced_this_year(account.id)


STATS = (
    AccountStat("sales.last_order", _l("Last order"), last_order, kind="date", order=30,
                permission=READ),
    AccountStat("sales.invoiced_this_year", _l("Invoiced this year"), invoiced_this_year,
                kind="money", order=31, permission=READ),
)

# --- the Create entries --------------------------------------------------------------------

CREATES = (
    CreateAction("sales.new_quote", _l("Quote"), permission=WRITE, order=30,
                 icon="file-earmark-text"),
    CreateAction("sales.new_order", _l("Order"), permission=WRITE, order=31, icon="cart"),
    CreateAction("sales.new_invoice", _l("Invoice"), permission=WRITE, order=32,
                 icon="receipt"),
)
