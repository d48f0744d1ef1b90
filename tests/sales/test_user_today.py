"""Sales' "today" is the user's (erp.clock.local_today), not the server's date: a user in a
zone far from the server gets their own date as a new order's and invoice's default date,
and a quote valid until their today is not in the past."""

from __future__ import annotations

from datetime import timedelta

import pytest

from erp.clock import local_today
from erp.db import db
from modules.crm.models import Account
from modules.sales import services
from tests.sales.support import line, refused

FAR_EAST, FAR_WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # UTC+14 and UTC-11


@pytest.mark.parametrize("zone", [FAR_EAST, FAR_WEST])
def test_the_default_dates_are_the_users_today(ctx, account, as_user, zone):
    rep = as_user("rep_a")
    rep.timezone = zone
    db.session.commit()
    today = local_today(rep)
    acct = db.session.get(Account, account)

    order = services.create_order(acct, {"lines": [line()]}, user=rep)
    assert order.order_date == today
    invoice = services.issue_invoice(order, {"first_due_date": (today + timedelta(days=30))
                                             .isoformat()}, user=rep)
    assert invoice.issue_date == today
    assert services.default_validity(rep) == today + timedelta(days=30)

    quote = services.create_quote(acct, {"valid_until": today.isoformat(), "lines": [line()]},
                                  user=rep)
    assert quote.valid_until == today
    yesterday = {"valid_until": (today - timedelta(days=1)).isoformat(), "lines": [line()]}
    assert refused(services.create_quote, acct, yesterday, user=rep) == {
        "valid_until": ["The validity date cannot be in the past."]}
