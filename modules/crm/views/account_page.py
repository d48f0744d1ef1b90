"""The account page, built only from what the registry holds.

CRM declares the kinds of the page (kinds.py) and contributes its own tabs, stats,
timeline sources and Create entries as any other module does (see ../account_page.py);
this file knows none of them by name.
Tabs, stats and create actions the user may not use are left out; a tab or a stat
that fails is logged and shown as a notice, and the rest of the page still renders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup

from erp.auth.services import safe_next_url
from erp.registry import MenuItem, TimelineSource

from ..kinds import AccountStat, AccountTab, CreateAction

log = logging.getLogger(__name__)


def registry():
    return current_app.extensions["erp"]


@dataclass
class StatValue:
    stat: Any
    value: Any
    failed: bool = False


@dataclass
class CreateEntry:
    action: Any
    url: str


def visible_tabs(user) -> list:
    return registry().items(AccountTab, user)


def find_tab(key: str, user):
    return next((tab for tab in visible_tabs(user) if tab.key == key), None)


def render_tab(tab, account, args) -> tuple[Markup | None, bool]:
    """(the tab's HTML, failed?): a tab that raises is logged, and the page says so."""
    try:
        # A tab renders its own (autoescaped) template: its output is HTML by contract.
        return Markup(tab.render(account, args)), False  # noqa: S704
    except Exception:
        log.exception("account tab %s failed for account %s", tab.key, account.id)
        return None, True


def tab_count(tab, account) -> int | None:
    """The tab's count, or None when it has none or it failed (shown as "?")."""
    if tab.count is None:
        return None
    try:
        return tab.count(account)
    except Exception:
        log.exception("count of account tab %s failed for account %s", tab.key, account.id)
        return None


def stats(account, user) -> list[StatValue]:
    values = []
    for stat in registry().items(AccountStat, user):
        try:
            values.append(StatValue(stat, stat.compute(account)))
        except Exception:
            log.exception("account stat %s failed for account %s", stat.key, account.id)
            values.append(StatValue(stat, None, failed=True))
    return values


def create_entries(account, user) -> list[CreateEntry]:
    """The Create menu: each entry opens its form for this account, then comes back."""
    back = safe_next_url(url_for("crm.account", account_id=account.id))
    entries = []
    for action in registry().items(CreateAction, user):
        try:
            entries.append(CreateEntry(action, url_for(action.target, account_id=account.id,
                                                       next=back)))
        except Exception:
            log.exception("create action %s has no usable endpoint", action.key)
    return entries


def timeline_kinds(user) -> dict[str, Any]:
    """Every event kind of the timeline sources ``user`` may see, with its label."""
    kinds: dict[str, Any] = {}
    for source in registry().items(TimelineSource, user):
        kinds.update(source.kinds)
    return kinds


@dataclass(frozen=True)
class KindGroup:
    """The timeline filter's kinds of one module, under the module's menu label."""

    key: str  # the module's name: "sales"
    label: Any
    kinds: dict[str, Any]


def timeline_kind_groups(user) -> list[KindGroup]:
    """The kinds of :func:`timeline_kinds`, grouped by the module whose source gives them
    (the source key's first part), in source order; each group is named by the module's
    menu entry (its key is the module's name), else by the module's name."""
    menu = {item.key: item.label for item in registry().items(MenuItem, check_permission=False)}
    groups: dict[str, dict[str, Any]] = {}
    for source in registry().items(TimelineSource, user):
        groups.setdefault(source.key.split(".")[0], {}).update(source.kinds)
    return [KindGroup(key, menu.get(key, key), kinds) for key, kinds in groups.items()]
