"""Bringing a database up to date: migrations, the module table, seeded roles."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from .auth.seed import ensure_default_roles, grant_module_defaults
from .db import db, refresh_statistics
from .migrate import migrated_modules, upgrade_all
from .models import InstalledModule


def record_modules(only: Iterable[str] | None = None,
                   migrated_before: set[str] | None = None) -> list[str]:
    """Record the enabled modules and their versions; returns the newly installed ones.

    A row is a module installed in this database (its tables made): the admin lists them.
    A module that becomes enabled grants its default permissions to the seeded roles (only
    then: later edits of the roles by an admin are kept). The row of a module that is not
    enabled (disabled, or its code gone) says so; a module never enabled gets no row.
    ``only``: record those modules alone (``flask --app erp module install``).
    ``migrated_before``: the modules whose branch the database had before this upgrade; a
    disabled module of theirs that is enabled again was installed already, and its roles
    keep what an admin made of them (without it, re-enabling grants the defaults again).
    """
    app = current_app
    registry = app.extensions["erp"]
    enabled = {m.name for m in app.extensions["erp_modules"]}
    wanted = enabled if only is None else enabled & set(only)
    known = {m.name: m for m in db.session.scalars(select(InstalledModule))}
    roles = ensure_default_roles()
    new = []
    available = app.extensions["erp_available_modules"]
    for name, row in known.items():
        if name not in enabled and row.enabled:
            row.enabled = False
    for name in sorted(wanted):
        module = available[name]
        row = known.get(name)
        if row is None:
            row = InstalledModule(name=name, enabled=False)
            db.session.add(row)
            new.append(name)
        elif not row.enabled and (
                migrated_before is None
                or module.migrations_dir is not None and name not in migrated_before):
            new.append(name)  # a row without its tables: an older host's, never installed
        row.version = module.manifest.version
        row.summary = module.manifest.summary
        row.depends = ", ".join(module.manifest.depends)
        row.origin = module.origin
        row.enabled = True
    for name in new:
        grant_module_defaults(registry, name, roles)
    db.session.commit()
    return new


def upgrade_database(app, only: Iterable[str] | None = None) -> list[str]:
    """Migrate every enabled branch to head, record the modules, and refresh the query
    planner's statistics (a migration may have added an index or rewritten a table).

    ``only``: the host's branch and those modules' (with their dependencies first: the
    caller lists them). Raises :class:`erp.migrate.OrphanRevisionError`, before changing
    anything, if the database has a revision of a module whose code is gone.
    """
    with app.app_context():
        before = set(migrated_modules(app))
    upgrade_all(app, only)
    with app.app_context():
        new = record_modules(only, before)
        refresh_statistics()
        return new
