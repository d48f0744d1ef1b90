"""Bringing a database up to date: migrations, the module table, seeded roles."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from .auth.seed import ensure_default_roles, grant_module_defaults
from .db import db, refresh_statistics
from .migrate import upgrade_all
from .models import InstalledModule


def record_modules() -> list[str]:
    """Record the available modules and their versions; returns the newly installed ones.

    A module that becomes enabled grants its default permissions to the seeded
    roles (only then: later edits of the roles by an admin are kept).
    """
    app = current_app
    registry = app.extensions["erp"]
    enabled = {m.name for m in app.extensions["erp_modules"]}
    known = {m.name: m for m in db.session.scalars(select(InstalledModule))}
    roles = ensure_default_roles()
    new = []
    for name, module in sorted(app.extensions["erp_available_modules"].items()):
        row = known.get(name)
        if row is None:
            row = InstalledModule(name=name, enabled=False)
            db.session.add(row)
        if name in enabled and not row.enabled:
            new.append(name)
        row.version = module.manifest.version
        row.summary = module.manifest.summary
        row.depends = ", ".join(module.manifest.depends)
        row.origin = module.origin
        row.enabled = name in enabled
    for name in new:
        grant_module_defaults(registry, name, roles)
    db.session.commit()
    return new


def upgrade_database(app) -> list[str]:
    """Migrate every enabled branch to head, record the modules, and refresh the query
    planner's statistics (a migration may have added an index or rewritten a table)."""
    upgrade_all(app)
    with app.app_context():
        new = record_modules()
        refresh_statistics()
        return new
