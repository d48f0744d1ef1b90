"""What finance adds to CRM's account page: the Finance tab, three timeline sources
(receivable created, payment received, receivable overdue), two header figures and
Create → Receivable. Each is a frozen dataclass from ``erp.registry``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from flask import current_app, render_template, url_for
from flask_login import current_user
from sqlalchemy import and_, bindparam, false, func, or_, select, true

from erp.auth.models import User
from erp.clock import local_today
from erp.db import db
from erp.i18n import date_filter, module_i18n, money
from erp.registry import TimelineEvent, TimelineSource
from erp.timeline import after_cursor, as_utc, first_page_built_once
from modules.crm.kinds import AccountStat, AccountTab, CreateAction

from .labels import METHOD_LABELS
from .models import OVERDUE, Payment, Receivable, status_expr, unpaid_clause
from .permissions import READ, WRITE
from .services.common import to_money

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

SHOWN = 50  # open receivables listed in the tab (the list page has them all)
RECENT_PAYMENTS = 10

# --- the tab -----------------------------------------------------------------------------


def count_open(account) -> int:
    """The number on the tab: the account's receivables still to be received."""
    return db.session.scalar(select(func.count(Receivable.id)).where(
        Receivable.account_id == account.id, unpaid_clause()))


def owed_select(account_id: int, *clauses):
    """What the account still owes on its receivables (those matching ``clauses``): the
    amounts of its live receivables less the payments received on them — two sums over
    index ranges (the (account_id, cancelled, due_date, amount) index covers the first),
    not a correlated sum of payments per receivable, twice (issue 15). The same figure as
    the sum of amount - paid over the unpaid ones: a payment is never more than is owed
    (record_payment), so a receivable paid in full adds amount - paid = 0."""
    live = (Receivable.account_id == account_id, Receivable.cancelled == false(), *clauses)
    amounts = select(func.coalesce(func.sum(Receivable.amount), 0)).where(*live)
    payments = (select(func.coalesce(func.sum(Payment.amount), 0))
                .join(Receivable, Receivable.id == Payment.receivable_id).where(*live))
    return select(amounts.scalar_subquery() - payments.scalar_subquery())


# The account page shows both figures on every view (issue 15's throughput): the two
# statements are built once, the account and the day bound when run (building them and
# their cache keys anew cost more Python than the two index sums).
OPEN_OWED = owed_select(bindparam("account_id"))
OVERDUE_OWED = owed_select(bindparam("account_id"), Receivable.due_date < bindparam("today"))


def _owed(account_id: int, today: date | None = None):
    """What the account owes (only what fell due before ``today`` when given)."""
    if today is None:
        return to_money(db.session.scalar(OPEN_OWED, {"account_id": account_id}))
    return to_money(db.session.scalar(OVERDUE_OWED, {"account_id": account_id,
                                                     "today": today}))


def render_tab(account, args) -> str:
    today = local_today()
    receivables = db.session.execute(
        select(Receivable, Receivable.paid.label("paid"),
               status_expr(today).label("status"))
        .where(Receivable.account_id == account.id, unpaid_clause())
        .order_by(Receivable.due_date, Receivable.id).limit(SHOWN)).all()
    payments = db.session.execute(
        select(Payment.id, Payment.date, Payment.amount, Payment.method,
               Receivable.id.label("receivable_id"), Receivable.document)
        .join(Receivable, Receivable.id == Payment.receivable_id)
        .where(Payment.account_id == account.id)
        .order_by(Payment.created_at.desc(), Payment.id.desc()).limit(RECENT_PAYMENTS)).all()
    return render_template(
        "finance/tab.html", account=account, receivables=receivables, payments=payments,
        total=count_open(account), shown=SHOWN, open_total=_owed(account.id),
        overdue_total=_owed(account.id, today), overdue=OVERDUE,
        can_write=current_user.has_permission(WRITE))


TAB = AccountTab("finance", _l("Finance"), render=render_tab, count=count_open, order=60,
                 permission=READ)

# --- the stats -----------------------------------------------------------------------------


def open_receivables(account):
    return _owed(account.id)


def overdue_amount(account):
    return _owed(account.id, local_today())


STATS = (
    AccountStat("finance.open_receivables", _l("Open receivables"), open_receivables,
                kind="money", order=60, permission=READ),
    AccountStat("finance.overdue", _l("Overdue"), overdue_amount, kind="money", order=61,
                permission=READ),
)

# --- the Create entry ----------------------------------------------------------------------

CREATE = CreateAction("finance.new_receivable", _l("Receivable"), permission=WRITE, order=60)

# --- the timeline sources -----------------------------------------------------------------

CREATED_KEY, CREATED = "finance.receivables", "finance.receivable"
PAYMENTS_KEY, PAYMENT = "finance.payments", "finance.payment"
OVERDUE_KEY, OVERDUE_KIND = "finance.overdue", "finance.overdue"


def _detail(receivable_id: int) -> str:
    return url_for("finance.receivable", receivable_id=receivable_id)


def fetch_created(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    """Receivables created (by hand or from an invoice): one keyset query."""
    if CREATED not in kinds:
        return []
    rows = db.session.execute(_created_select((), cursor),
                              {"account_id": account_id, "limit": limit})
    return [TimelineEvent(at=row.created_at, kind=CREATED, title="", url=None, icon="receipt",
                          id=row.id, actor=row.name, describe=partial(_describe_created, row))
            for row in rows]


# Each source's statement binds the account and the page size (and the day); the first
# page's is built once (erp.timeline.first_page_built_once, issue 15).
@first_page_built_once
def _created_select(_kinds, cursor):
    return (select(Receivable.id, Receivable.created_at, Receivable.document,
                   Receivable.amount, Receivable.due_date, Receivable.cancelled, User.name)
            .outerjoin(User, User.id == Receivable.created_by_id)
            .where(Receivable.account_id == bindparam("account_id"),
                   after_cursor(Receivable.created_at, Receivable.id, CREATED_KEY, cursor))
            .order_by(Receivable.created_at.desc(), Receivable.id.desc())
            .limit(bindparam("limit")))


def _describe_created(row, event: TimelineEvent) -> TimelineEvent:
    """The text of a shown "receivable created" (formatting waits for it: issue 15)."""
    return replace(event, title=_("Receivable %(document)s", document=row.document),
                   url=_detail(row.id),
                   body=_("%(amount)s due %(date)s", amount=money(row.amount),
                          date=_format_date(row.due_date)),
                   badge=_("Cancelled") if row.cancelled else None)


def fetch_payments(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    """Payments received: one keyset query."""
    if PAYMENT not in kinds:
        return []
    rows = db.session.execute(_payments_select((), cursor),
                              {"account_id": account_id, "limit": limit})
    return [TimelineEvent(at=row.created_at, kind=PAYMENT, title="", url=None, icon="cash-coin",
                          id=row.id, actor=row.name, describe=partial(_describe_payment, row))
            for row in rows]


@first_page_built_once
def _payments_select(_kinds, cursor):
    return (select(Payment.id, Payment.created_at, Payment.amount, Payment.date,
                   Payment.method, Receivable.id.label("receivable_id"), Receivable.document,
                   User.name)
            .join(Receivable, Receivable.id == Payment.receivable_id)
            .outerjoin(User, User.id == Payment.created_by_id)
            .where(Payment.account_id == bindparam("account_id"),
                   after_cursor(Payment.created_at, Payment.id, PAYMENTS_KEY, cursor))
            .order_by(Payment.created_at.desc(), Payment.id.desc())
            .limit(bindparam("limit")))


def _describe_payment(row, event: TimelineEvent) -> TimelineEvent:
    return replace(event, title=_("Payment of %(amount)s received", amount=money(row.amount)),
                   url=_detail(row.receivable_id),
                   body=_("%(document)s, paid %(date)s (%(method)s)", document=row.document,
                          date=_format_date(row.date), method=method_label(row.method)))


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def overdue_at(due_date: date, zone: ZoneInfo | None = None) -> datetime:
    """When a receivable became overdue: the start of the day after its due date (in the
    app's time zone), in UTC. Strictly increasing with the due date."""
    return datetime.combine(due_date + timedelta(days=1), time(0),
                            zone or _zone()).astimezone(UTC)


def _overdue_after(cursor):
    """after_cursor() for an event time derived from the due date: the condition on the
    due date (and id) for the events strictly after ``cursor``."""
    if cursor is None:
        return true()
    last_due = as_utc(cursor.at).astimezone(_zone()).date() - timedelta(days=1)
    at = overdue_at(last_due)  # the latest event time <= cursor.at
    if cursor.source > OVERDUE_KEY:
        same_instant = true()
    elif cursor.source == OVERDUE_KEY:
        same_instant = Receivable.id < cursor.id
    else:
        same_instant = false()
    if at < as_utc(cursor.at):
        same_instant = true()
    return or_(Receivable.due_date < last_due,
               and_(Receivable.due_date == last_due, same_instant))


@first_page_built_once
def _overdue_select(_kinds, cursor):
    paid_by_due = (select(func.coalesce(func.sum(Payment.amount), 0))
                   .where(Payment.receivable_id == Receivable.id,
                          Payment.date <= Receivable.due_date)
                   .correlate(Receivable).scalar_subquery())
    return (select(Receivable.id, Receivable.due_date, Receivable.document, Receivable.amount)
            .where(Receivable.account_id == bindparam("account_id"),
                   Receivable.due_date < bindparam("today"),
                   Receivable.cancelled.is_(False), paid_by_due < Receivable.amount,
                   _overdue_after(cursor))
            .order_by(Receivable.due_date.desc(), Receivable.id.desc())
            .limit(bindparam("limit")))


def fetch_overdue(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    """Receivables that became overdue — not paid in full by their due date — derived
    from the due date (nothing stored): one range scan of (account_id, due_date, id)."""
    if OVERDUE_KIND not in kinds:
        return []
    today = datetime.now(_zone()).date()
    rows = db.session.execute(_overdue_select((), cursor),
                              {"account_id": account_id, "limit": limit, "today": today})
    zone = _zone()
    return [TimelineEvent(at=overdue_at(row.due_date, zone), kind=OVERDUE_KIND, title="",
                          url=None, icon="exclamation-triangle", id=row.id,
                          describe=partial(_describe_overdue, row))
            for row in rows]


def _describe_overdue(row, event: TimelineEvent) -> TimelineEvent:
    return replace(event, title=_("Receivable %(document)s overdue", document=row.document),
                   url=_detail(row.id),
                   body=_("%(amount)s was due %(date)s", amount=money(row.amount),
                          date=_format_date(row.due_date)),
                   badge=_("Overdue"))


def _format_date(value) -> str:
    return date_filter(value)


def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


SOURCES = (
    TimelineSource(CREATED_KEY, {CREATED: _l("Receivable created")}, fetch_created,
                   permission=READ, order=60),
    TimelineSource(PAYMENTS_KEY, {PAYMENT: _l("Payment received")}, fetch_payments,
                   permission=READ, order=61),
    TimelineSource(OVERDUE_KEY, {OVERDUE_KIND: _l("Receivable overdue")}, fetch_overdue,
                   permission=READ, order=62),
)
