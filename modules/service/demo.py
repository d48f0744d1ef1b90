"""Demo service data: some months of service orders (open, in progress, done, cancelled),
with parts and hours, for ten of the demo accounts, and service invoices for most of the
finished ones. Made through the real services (so finance, when installed, gets its
receivables from the invoice signal), then dated back. Runs after CRM's accounts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from erp.auth.models import User
from erp.db import db
from erp.demo import demo_users
from erp.registry import DemoUser
from modules.crm.models import Account

from . import services
from .models import (
    CANCELLED,
    DONE,
    EV_INVOICE_ISSUED,
    EV_ORDER_CANCELLED,
    EV_ORDER_FINISHED,
    EV_ORDER_OPENED,
    IN_PROGRESS,
    OPEN,
    ServiceEvent,
    ServiceInvoice,
    ServiceOrder,
)
from .permissions import SERVICE

ACCOUNTS = 10
TECHNICIAN = "sergio"
USERS = (DemoUser(TECHNICIAN, "Sérgio Serviços", SERVICE),)  # created by the host
JOBS = (
    "Manutenção preventiva do servidor de arquivos",
    "Instalação de rede estruturada no escritório",
    "Troca de nobreak e testes de autonomia",
    "Configuração de backup em nuvem",
    "Formatação e reinstalação de estações de trabalho",
    "Visita técnica: impressora fiscal sem comunicação",
    "Migração de e-mails para o novo domínio",
    "Ampliação do rack e organização de cabos",
    "Atualização do ERP e treinamento rápido",
    "Diagnóstico de lentidão na rede Wi-Fi",
)
PARTS = (
    ("Memória 16 GB DDR4", "389,90"),
    ("SSD 480 GB", "279,00"),
    ("Cabo de rede Cat6 (metro)", "3,20"),
    ("Conector RJ45 (unidade)", "1,10"),
    ("Switch 24 portas gigabit", "1.149,00"),
    ("Bateria para nobreak 12 V", "159,90"),
    ("Fonte ATX 500 W", "329,00"),
    ("Access point Wi-Fi 6", "699,00"),
)
RATES = ("120,00", "150,00", "180,00")
# The fate of each order, in turn: most finished (and invoiced), some under way, a few lost.
FATES = (DONE, DONE, IN_PROGRESS, DONE, OPEN, CANCELLED, DONE, IN_PROGRESS)


def _moment(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _date_events(order_id: int, kind: str, day: date, hour: int) -> None:
    db.session.execute(update(ServiceEvent).where(
        ServiceEvent.order_id == order_id, ServiceEvent.kind == kind)
        .values(at=_moment(day, hour)))


def _technician() -> User | None:
    return (db.session.scalar(select(User).where(User.username == TECHNICIAN,
                                                 User.active.is_(True)))
            or db.session.scalar(select(User).where(User.active.is_(True)).order_by(User.id)))


def _accounts() -> list[Account]:
    """Ten accounts owned by the demo users, from the end of the list (sales' demo history
    is on the first ones), in id order."""
    owners = select(User.id).where(User.username.in_([u.username for u in demo_users()]))
    accounts = db.session.scalars(
        select(Account).where(Account.owner_id.in_(owners), Account.archived.is_(False))
        .order_by(Account.id.desc()).limit(ACCOUNTS)).all()
    return sorted(accounts, key=lambda account: account.id)


def _order_data(rng: random.Random, technician: User) -> dict:
    items = [{"description": name, "quantity": str(rng.choice((1, 1, 2, 4, 10, 25))),
              "unit_price": price}
             for name, price in rng.sample(PARTS, rng.randint(0, 3))]
    return {"description": rng.choice(JOBS), "technician_id": str(technician.id),
            "hours": rng.choice(("1", "1,5", "2", "3", "4", "6", "8", "12")),
            "hourly_rate": rng.choice(RATES), "items": items}


def _make(account: Account, fate: str, rng: random.Random, user: User, today: date) -> None:
    # Orders still under way are recent; finished or cancelled ones spread over 8 months.
    age = rng.randint(1, 20) if fate in (OPEN, IN_PROGRESS) else rng.randint(12, 240)
    opened = today - timedelta(days=age)
    order = services.create_order(account, _order_data(rng, user), user=user)
    order_id = order.id
    dates = {"created_at": _moment(opened)}
    _date_events(order_id, EV_ORDER_OPENED, opened, 9)
    if fate in (IN_PROGRESS, DONE):
        services.change_status(order, IN_PROGRESS, user=user)
        started = min(opened + timedelta(days=rng.randint(0, 2)), today)
        dates["started_at"] = _moment(started, 10)
    if fate == DONE:
        services.change_status(order, DONE, user=user)
        finished = min(started + timedelta(days=rng.randint(0, 8)), today)
        dates["finished_at"] = _moment(finished, 17)
        _date_events(order_id, EV_ORDER_FINISHED, finished, 17)
    if fate == CANCELLED:
        services.change_status(order, CANCELLED, user=user)
        cancelled = min(opened + timedelta(days=rng.randint(1, 5)), today)
        dates["cancelled_at"] = _moment(cancelled, 11)
        _date_events(order_id, EV_ORDER_CANCELLED, cancelled, 11)
    dates["updated_at"] = max(dates.values())
    db.session.execute(update(ServiceOrder).where(ServiceOrder.id == order_id).values(**dates))
    db.session.commit()
    if fate == DONE and rng.random() < 0.75:
        _invoice(db.session.get(ServiceOrder, order_id), finished, rng, user)


def _invoice(order: ServiceOrder, day: date, rng: random.Random, user: User) -> None:
    invoice = services.issue_invoice(order, {
        "issue_date": day.isoformat(), "due_date": (day + timedelta(days=30)).isoformat(),
        "installments": str(rng.choice((1, 1, 1, 2, 3)))}, user=user)
    db.session.execute(update(ServiceInvoice).where(ServiceInvoice.id == invoice.id)
                       .values(issued_at=_moment(day, 18)))
    db.session.execute(update(ServiceEvent).where(
        ServiceEvent.invoice_id == invoice.id, ServiceEvent.kind == EV_INVOICE_ISSUED)
        .values(at=_moment(day, 18)))
    db.session.commit()


def load() -> None:
    rng = random.Random(2026)  # noqa: S311 - repeatable demo data, not security
    user = _technician()
    if user is None:
        return
    today = date.today()
    turn = 0
    for account in _accounts():
        for _n in range(rng.randint(1, 3)):
            _make(account, FATES[turn % len(FATES)], rng, user, today)
            turn += 1



# --- the contract tests' records (erp.registry.ContractData) ---------------------------------


def contract_data(account: Account, user: User) -> None:
    """A service order on ``account`` opened, done and invoiced, and another one open, as
    ``user``: orders in the Service tab, each step in the timeline."""
    data = {"description": JOBS[0], "technician_id": str(user.id), "hours": "2",
            "hourly_rate": RATES[0], "items": []}
    order = services.create_order(account, data, user=user)
    services.change_status(order, IN_PROGRESS, user=user)
    services.change_status(order, DONE, user=user)
    today = date.today()
    services.issue_invoice(order, {"issue_date": today.isoformat(),
                                   "due_date": (today + timedelta(days=30)).isoformat(),
                                   "installments": "1"}, user=user)
    services.create_order(account, data, user=user)
