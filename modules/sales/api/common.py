"""What sales' API views share with CRM's (permissions, 404/409/412 documentation, service
errors), and the stale-version check of a write."""

from __future__ import annotations

from decimal import Decimal

from flask_login import current_user
from sqlalchemy import select

from erp.api.etags import check_if_match
from erp.db import db
from erp.errors import Conflict
from modules.crm.api.common import (  # noqa: F401 (re-exported)
    conflict_response,
    not_found,
    precondition_response,
    requires,
)
from modules.crm.api.errors import invalid, service_errors  # noqa: F401 (re-exported)
from modules.crm.models import Account
from modules.crm.services.scope import account_scope


def expected_version(record, data: dict) -> None:
    """Refuse a write to ``record`` made from a stale read: ``If-Match`` (412) or the body's
    ``version`` (409 ``stale_version``, through :func:`service_errors`); neither: applied
    as sent. Pops ``version`` from ``data``."""
    matched = check_if_match(record)
    expected = data.pop("version", None)
    expected = matched if expected is None else expected
    if expected is not None and expected != record.version:
        with service_errors():
            raise Conflict(current_version=record.version)


def account_in_scope(account_id: int, field: str = "account_id") -> Account:
    """The account a body names, if the user may see it; else a 422 on ``field`` (a
    reference in the body is input, not the resource: not a 404)."""
    account = db.session.scalar(select(Account).where(Account.id == account_id,
                                                      account_scope(current_user)))
    if account is None:
        invalid(field, "Choose an account you can see.")
    return account


def form_lines(lines) -> list[dict]:
    """Document lines as the services read the form's: text. A decimal goes with a comma
    (``Decimal("1.500")`` -> ``"1,500"``): the line routine reads ``"1.500"`` as a
    Brazilian thousand, and a comma alone is always the decimal separator."""
    return [{name: format(value, "f").replace(".", ",") if isinstance(value, Decimal)
             else value for name, value in line.items()} for line in lines]
