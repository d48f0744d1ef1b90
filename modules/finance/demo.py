"""Demo finance data: support contracts in monthly installments for some demo customers,
and payments (full, partial, late, none) for those and for the receivables that sales'
demo invoices created — so a demo customer's Finance tab has paid, open and overdue
receivables. Runs after CRM's and sales' loaders, through the real services."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from erp.auth.models import User
from erp.db import db
from erp.money import CENT, add_months
from erp.registry import DemoUser
from modules.crm.models import Account

from . import services
from .models import METHODS, Payment, Receivable
from .permissions import FINANCE

USERS = (DemoUser("fernanda", "Fernanda Financeiro", FINANCE),)  # created by the host
CONTRACT_ACCOUNTS = 8


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(14, 0), tzinfo=UTC)


def load() -> None:
    rng = random.Random(2026)  # noqa: S311 - repeatable demo data, not security
    user = db.session.scalar(select(User).where(User.username.in_(("fernanda", "admin")))
                             .order_by(User.username.desc()))
    if user is None:
        return
    today = date.today()
    start = add_months(today.replace(day=10), -8)  # 4 installments to come
    accounts = db.session.scalars(select(Account).order_by(Account.id)
                                  .limit(CONTRACT_ACCOUNTS)).all()
    for account in accounts:
        made = services.create_receivables(account, {
            "document": f"Contrato de suporte {account.id:04d}", "issue_date": start,
            "due_date": start, "amount": str(rng.choice((890, 1450, 2380)) * 12),
            "installments": "12"}, user=user, today=start)
        db.session.execute(update(Receivable).where(
            Receivable.id.in_([r.id for r in made])).values(created_at=_moment(start)))
        db.session.commit()
    receivables = db.session.scalars(select(Receivable).where(
        Receivable.cancelled.is_(False), Receivable.due_date < today - timedelta(days=5))
        .order_by(Receivable.id)).all()
    for receivable in receivables:
        luck = rng.random()
        if luck < 0.12:
            continue  # never paid: overdue
        on = min(receivable.due_date + timedelta(days=rng.choice((0, 0, 1, 3, 12))), today)
        owed = receivable.outstanding
        amount = owed if luck > 0.25 else (owed / 2).quantize(CENT)
        payment = services.record_payment(receivable, {
            "amount": amount, "date": on, "method": rng.choice(METHODS)}, user=user,
            today=today)
        db.session.execute(update(Payment).where(Payment.id == payment.id)
                           .values(created_at=_moment(on)))
        db.session.commit()


# --- the contract tests' records (erp.registry.ContractData) ---------------------------------


def contract_data(account: Account, user: User) -> None:
    """Two monthly receivables of ``account`` due in the past, the first paid, as ``user``:
    open and overdue in the Finance tab, created, paid and overdue in the timeline."""
    today = date.today()
    due = add_months(today, -2)
    first, _second = services.create_receivables(account, {
        "document": f"Contrato {account.id:04d}", "issue_date": due, "due_date": due,
        "amount": "300,00", "installments": "2"}, user=user, today=due)
    services.record_payment(first, {"amount": first.outstanding, "date": today,
                                    "method": METHODS[0]}, user=user, today=today)
