"""What sales' API views share: the host's API conventions (erp.api.conventions), and the
account a body names."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from erp.api.conventions import (  # noqa: F401 (re-exported)
    reads_record,
    referenced,
    requires,
    service_errors,
    writes_record,
    writing,
)
from modules.crm.models import Account
from modules.crm.services.scope import account_scope


def account_in_scope(account_id: int, field: str = "account_id") -> Account:
    """The account a body names, if the user may see it; else a 422 on ``field``."""
    return referenced(select(Account).where(Account.id == account_id,
                                            account_scope(current_user)),
                      field, "Choose an account you can see.")

