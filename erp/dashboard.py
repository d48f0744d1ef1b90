"""The home dashboard: the widgets the enabled modules contribute, rendered for one user.

The host knows no module: it asks the registry for the widgets the user may see
(``registry.items(DashboardWidget, user)``) and lays them out by their ``width``. A widget that
raises is logged and becomes a small notice, so one broken module cannot take the home
page down (as with global search and the account page's tabs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from .db import db
from .registry import DashboardWidget

log = logging.getLogger(__name__)

MIN_WIDTH, MAX_WIDTH = 3, 12


@dataclass(frozen=True)
class Card:
    """One widget as the home page shows it: its HTML, or ``failed``."""

    widget: DashboardWidget
    html: Markup | None
    failed: bool = False

    @property
    def width(self) -> int:
        """The widget's columns on wide screens, kept within what the grid can lay out."""
        try:
            width = int(self.widget.width)
        except (TypeError, ValueError):
            width = 6
        return max(MIN_WIDTH, min(MAX_WIDTH, width))

    @property
    def grid_class(self) -> str:
        """Full width on phones, half or full on tablets, ``width`` columns on wide screens."""
        return f"col-12 col-md-{6 if self.width <= 6 else 12} col-xl-{self.width}"

    @property
    def dom_id(self) -> str:
        return "widget-" + "".join(ch if ch.isalnum() else "-" for ch in self.widget.key)


def render_widget(widget: DashboardWidget, user: Any) -> Card:
    try:
        # A widget renders its own (autoescaped) template: its output is HTML by contract.
        return Card(widget, Markup(widget.render(user)))  # noqa: S704
    except Exception:
        log.exception("dashboard widget %s failed for user %s", widget.key,
                      getattr(user, "id", None))
        # A failed query leaves a PostgreSQL transaction aborted: start afresh, so the
        # next widgets (and the layout) can still read. The home page writes nothing.
        db.session.rollback()
        return Card(widget, None, failed=True)


def cards(registry: Any, user: Any) -> list[Card]:
    """Every widget ``user`` may see, in the registry's order, each rendered or failed."""
    return [render_widget(widget, user) for widget in registry.items(DashboardWidget, user)]
