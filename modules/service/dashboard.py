"""Service's home-dashboard widget: the open service orders (open or in progress) in the
user's record scope — how many in each status, and the most recent few.

Two queries, whatever the number of orders: a GROUP BY status and a LIMITed list, both
from :func:`modules.service.services.orders.orders_in_scope`, the list page's own scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from sqlalchemy import func

from erp.auth.models import User
from erp.db import db
from erp.i18n import module_i18n
from erp.registry import DashboardWidget
from modules.crm.models import Account

from .models import ACTIVE, ServiceOrder, order_document
from .permissions import READ
from .services.orders import orders_in_scope

_l = module_i18n(__name__).lazy_gettext

RECENT_SHOWN = 5


@dataclass
class OpenOrdersSummary:
    by_status: dict[str, int] = field(default_factory=dict)  # every ACTIVE status, in order
    recent: list[Any] = field(default_factory=list)  # rows, the newest first

    @property
    def count(self) -> int:
        return sum(self.by_status.values())


def open_orders_summary(user, *, limit: int = RECENT_SHOWN) -> OpenOrdersSummary:
    active = ServiceOrder.status.in_(ACTIVE)
    counts = dict(db.session.execute(
        orders_in_scope(user).where(active)
        .with_only_columns(ServiceOrder.status, func.count(ServiceOrder.id))
        .group_by(ServiceOrder.status)).all())
    recent = db.session.execute(
        orders_in_scope(user).where(active)
        .with_only_columns(ServiceOrder.id, ServiceOrder.number, ServiceOrder.status,
                           ServiceOrder.description, ServiceOrder.created_at,
                           ServiceOrder.account_id,
                           func.coalesce(Account.trade_name, Account.legal_name)
                           .label("account_name"),
                           User.name.label("technician"))
        .join(User, User.id == ServiceOrder.technician_id)
        .order_by(ServiceOrder.id.desc()).limit(limit)).all()
    return OpenOrdersSummary({status: int(counts.get(status, 0)) for status in ACTIVE},
                             list(recent))


def render(user) -> str:
    return render_template("service/dashboard.html", summary=open_orders_summary(user),
                           document=order_document)


WIDGET = DashboardWidget("service.open_orders", _l("Open service orders"), render=render,
                         permission=READ, order=40, width=6)
