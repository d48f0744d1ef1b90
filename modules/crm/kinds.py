"""The account page's contribution kinds (a role of its own, beyond the module shape's
fixed files): the kinds CRM owns, what other modules add to its account page.

CRM declares them in its ``register()`` (``registry.declare(AccountTab, AccountStat,
CreateAction)``); a module that depends on CRM imports them from here and adds its items
(``registry.add(AccountTab("notes", ...))``). Part of CRM's public surface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AccountTab:
    """A tab of the account page."""

    key: str  # "sales" — also the URL: /crm/accounts/<id>/tabs/sales
    label: Any
    render: Callable  # (account, request args) -> HTML fragment
    count: Callable | None = None  # (account) -> int | None, one cheap indexed query
    order: int = 100
    permission: str | None = None


@dataclass(frozen=True)
class AccountStat:
    """A key figure in the account page header (e.g. open receivables)."""

    key: str
    label: Any
    compute: Callable  # (account) -> value
    kind: str = "number"  # "number", "money" or "date": how the page formats the value
    order: int = 100
    permission: str | None = None


@dataclass(frozen=True)
class CreateAction:
    """An entry of the account page's "Create" menu."""

    key: str
    label: Any
    endpoint: str | None = None  # defaults to key; called with account_id=<id>
    permission: str | None = None
    order: int = 100
    icon: str | None = None

    @property
    def target(self) -> str:
        return self.endpoint or self.key


KINDS = (AccountTab, AccountStat, CreateAction)
