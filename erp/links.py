"""Links to a page that may not be there: a module links to a page of another it does
not depend on (finance's receivable of an invoice's installment, the merge page of a
pair) by the page's endpoint name, never by importing it, and only when that module is
enabled and the user may open the page."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import current_app, url_for
from flask_login import current_user

__all__ = ["page_link"]


def page_link(endpoint: str, permission: str | None = None) -> Callable[..., str] | None:
    """``url_for(endpoint, **values)`` as a function of the ``values``, or None when no
    page has that endpoint (its module is off) or the user lacks ``permission``."""
    if endpoint not in current_app.view_functions:
        return None
    if permission is not None and not current_user.has_permission(permission):
        return None
    return partial(url_for, endpoint)
