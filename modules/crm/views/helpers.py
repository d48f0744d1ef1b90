"""Small helpers shared by the CRM views (the generic ones are the host's: erp.forms)."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from erp.auth import scope_clause
from erp.auth.models import User
from erp.db import db
from erp.forms import choices

from ..models import Category, Tag


def assignable_users() -> list[User]:
    """Active users whose records the current user sees: the possible owners."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), scope_clause(User.id, current_user))
        .order_by(User.name)))


def category_choices(blank: str = "—") -> list[tuple[str, str]]:
    return choices(db.session.scalars(select(Category).order_by(Category.name)), blank=blank)


def tag_choices() -> list[tuple[str, str]]:
    return choices(db.session.scalars(select(Tag).order_by(Tag.name)))
