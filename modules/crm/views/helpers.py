"""Small helpers shared by the CRM views."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user
from sqlalchemy import select

from erp.auth import scope_clause
from erp.auth.models import User
from erp.db import db
from erp.params import page_arg  # noqa: F401 (the views' page number, bounded)

from ..models import Category, Tag
from ..services.errors import InvalidInput


def page_size() -> int:
    return current_app.config["ERP_PAGE_SIZE"]


def assignable_users() -> list[User]:
    """Active users whose records the current user sees: the possible owners."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), scope_clause(User.id, current_user))
        .order_by(User.name)))


def category_choices(blank: str = "—") -> list[tuple[str, str]]:
    categories = db.session.scalars(select(Category).order_by(Category.name))
    return [("", blank)] + [(str(c.id), c.name) for c in categories]


def tag_choices() -> list[tuple[str, str]]:
    return [(str(t.id), t.name) for t in db.session.scalars(select(Tag).order_by(Tag.name))]


def _field(form, name: str):
    """A form field by name, also inside a FieldList of sub-forms ("items-2-quantity")."""
    if name in form._fields:
        return form._fields[name]
    parent, _sep, rest = name.partition("-")
    index, _sep, child = rest.partition("-")
    entries = form._fields.get(parent)
    if entries is None or not index.isdigit() or not child:
        return None
    try:
        return entries[int(index)].form._fields.get(child)
    except (IndexError, AttributeError, TypeError):
        return None


def apply_errors(form, error: InvalidInput) -> None:
    """Put a service's per-field messages next to the form's fields."""
    for field, messages in error.errors.items():
        target = _field(form, "tag_ids" if field == "tags" else field)
        if target is None:
            form.form_errors.extend(messages)
            continue
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.extend(messages)
