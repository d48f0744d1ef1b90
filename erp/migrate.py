"""Alembic with one branch per module.

The host's revisions live in ``erp/migrations/versions`` (branch ``erp``); each
module keeps its own in ``<module>/migrations`` (branch = module name), all in
one ``alembic_version`` table. Every discovered module's folder is on Alembic's
path, so a database that once had a module keeps resolving its revisions, but
``upgrade`` only moves the branches of the enabled modules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import flask_migrate
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import Migrate
from sqlalchemy import inspect, select, text

from .db import db

HOST_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HOST_BRANCH = "erp"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave alone what models cannot describe: full-text tables and trigram indexes.

    By convention a module creates them with raw DDL in its migration, named
    ``<table>_fts`` (SQLite FTS5, and its ``<table>_fts_*`` shadow tables) or
    ``*_trgm`` (PostgreSQL trigram indexes).
    """
    if type_ == "table" and name and (name.endswith("_fts") or "_fts_" in name):
        return False
    return not (type_ == "index" and name and name.endswith("_trgm"))


migrate = Migrate(directory=str(HOST_MIGRATIONS), render_as_batch=True, compare_type=True,
                  include_object=include_object)


@migrate.configure
def _add_module_version_locations(config):
    available = current_app.extensions["erp_available_modules"].values()
    locations = [str(HOST_MIGRATIONS / "versions")]
    locations += [str(m.migrations_dir) for m in available if m.migrations_dir]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config


def branches(app, only: Iterable[str] | None = None) -> list[str]:
    """The branches to upgrade: the host's, then each enabled module's with migrations
    (``only``: of those modules alone)."""
    wanted = None if only is None else set(only)
    return [HOST_BRANCH] + [m.name for m in app.extensions["erp_modules"]
                            if m.migrations_dir and (wanted is None or m.name in wanted)]


def upgrade_all(app, only: Iterable[str] | None = None) -> None:
    """Bring the database to the head of every enabled branch, in load order (``only``:
    the host's and those modules' branches)."""
    with app.app_context():
        check_revisions(app)
        for branch in branches(app, only):
            flask_migrate.upgrade(revision=f"{branch}@head")


# --- which revisions the database is at, and whose --------------------------------------------


class OrphanRevisionError(RuntimeError):
    """The database is at a revision no available module has: its module's code is gone
    (``pip uninstall`` without ``flask --app erp module uninstall``). The message names the
    module, when known, and the commands that fix it."""

    def __init__(self, message: str, revisions: list[str], modules: list[str]):
        super().__init__(message)
        self.revisions = revisions
        self.modules = modules


def script_directory(app) -> ScriptDirectory:
    """Alembic's view of every available branch (inside an app context)."""
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def current_revisions() -> list[str]:
    """The revisions in ``alembic_version`` (one per branch head), none for a new database."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return []
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def revision_modules(app, script: ScriptDirectory | None = None) -> dict[str, str | None]:
    """Each revision of ``alembic_version`` and the branch it belongs to: ``"erp"``, a
    module's name (by the folder its file is in), or None when no available branch has it."""
    script = script or script_directory(app)
    folders = {HOST_MIGRATIONS / "versions": HOST_BRANCH}
    for module in app.extensions["erp_available_modules"].values():
        if module.migrations_dir:
            folders[module.migrations_dir.resolve()] = module.name
    found: dict[str, str | None] = {}
    for revision in current_revisions():
        try:
            located = script.get_revision(revision)
        except Exception:  # alembic's ResolutionError / CommandError: not in any folder
            located = None
        folder = Path(located.path).resolve().parent if located is not None else None
        found[revision] = folders.get(folder) if folder else None
    return found


def migrated_modules(app) -> dict[str, bool]:
    """The modules the database has migrations of, each with whether it is at its branch's
    head. Read from the ancestry of ``alembic_version``'s revisions, dependencies included:
    a revision another branch's ``depends_on`` names is no longer a row of its own there."""
    script = script_directory(app)
    current = [rev for rev, branch in revision_modules(app, script).items() if branch]
    if not current:
        return {}
    applied = {rev.revision for rev in script.iterate_revisions(tuple(current), "base")}
    folders = {m.migrations_dir.resolve(): m.name
               for m in app.extensions["erp_available_modules"].values() if m.migrations_dir}
    found: dict[str, bool] = {}
    for rev in script.walk_revisions():
        name = folders.get(Path(rev.path).resolve().parent)
        if name is not None and rev.revision in applied:
            found[name] = found.get(name, False) or not rev.nextrev
    return found


def gone_modules(app) -> dict[str, object]:
    """Rows of the module table whose module is not available any more, by name."""
    from .models import InstalledModule

    with db.engine.connect() as conn:
        if not inspect(conn).has_table(InstalledModule.__tablename__):
            return {}
        rows = conn.execute(select(InstalledModule.__table__)).mappings().all()
    available = app.extensions["erp_available_modules"]
    return {row["name"]: row for row in rows if row["name"] not in available}


def orphans_of(revisions: Iterable[str], gone: Iterable[str]) -> dict[str, str | None]:
    """Which gone module each orphan revision is likely from: the only one gone, or the one
    whose name is a word of the revision's id (``0001_projects``); else None."""
    gone = sorted(gone)
    owners: dict[str, str | None] = {}
    for revision in revisions:
        words = set(revision.lower().split("_"))
        named = [name for name in gone if name in words or f"_{name}" in revision.lower()]
        owners[revision] = named[0] if len(named) == 1 else (gone[0] if len(gone) == 1
                                                             else None)
    return owners


def module_tables(name: str, known_modules: Iterable[str], tables: Iterable[str]) -> list[str]:
    """The tables of module ``name`` among ``tables``: named ``<name>_...`` (a module's
    name is the prefix of its tables), except those of a module whose name is longer and
    also matches (``crm_extra_thing`` is crm_extra's, not crm's)."""
    longer = [other for other in known_modules
              if other != name and other.startswith(f"{name}_")]
    return sorted(table for table in tables if table.startswith(f"{name}_")
                  and not any(table.startswith(f"{other}_") for other in longer))


def check_revisions(app) -> None:
    """Raise :class:`OrphanRevisionError` if the database is at a revision whose module is
    gone; Alembic would stop with "Can't locate revision identified by ..." naming neither
    the module nor the fix."""
    orphans = [rev for rev, branch in revision_modules(app).items() if branch is None]
    if not orphans:
        return
    gone = gone_modules(app)
    owners = orphans_of(orphans, gone)
    with db.engine.connect() as conn:
        all_tables = inspect(conn).get_table_names()
    known = set(app.extensions["erp_available_modules"]) | set(gone)
    lines = []
    for revision in orphans:
        name = owners[revision]
        if name is None:
            lines.append(
                f"revision {revision!r} is in no available module's migrations; reinstall "
                "the module it belongs to, then run `flask --app erp module uninstall NAME`, "
                "or run `flask --app erp module forget NAME --revision "
                f"{revision}` to forget it here.")
            continue
        row = gone.get(name) or {}
        seen = f" ({row['version']}, from {row['origin']})" if row else ""
        tables = module_tables(name, known, all_tables)
        kept = (f" (its tables: {', '.join(tables)})" if tables else "")
        lines.append(
            f"revision {revision!r} is of module {name!r}{seen}, which is no longer "
            f"installed. Either reinstall it (e.g. pip install it again) and run `flask "
            f"--app erp module uninstall {name}`, which drops its tables and forgets it; or "
            f"run `flask --app erp module forget {name}` to forget it here, keeping its "
            f"tables{kept}, `--drop-tables` to drop them too.")
    names = sorted({owners[rev] for rev in orphans if owners[rev]})
    raise OrphanRevisionError(
        "The database has migrations of a module whose code is gone (uninstalled with pip "
        "but not with `flask --app erp module uninstall`):\n  " + "\n  ".join(lines),
        orphans, names)


def init_app(app) -> None:
    migrate.init_app(app, db)
