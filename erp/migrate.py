"""Alembic with one branch per module.

The host's revisions live in ``erp/migrations/versions`` (branch ``erp``); each
module keeps its own in ``<module>/migrations`` (branch = module name), all in
one ``alembic_version`` table. Every discovered module's folder is on Alembic's
path, so a database that once had a module keeps resolving its revisions, but
``upgrade`` only moves the branches of the enabled modules.
"""

from __future__ import annotations

import os
from pathlib import Path

import flask_migrate
from flask import current_app
from flask_migrate import Migrate

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


def branches(app) -> list[str]:
    """The branches to upgrade: the host's, then each enabled module's with migrations."""
    return [HOST_BRANCH] + [m.name for m in app.extensions["erp_modules"] if m.migrations_dir]


def upgrade_all(app) -> None:
    """Bring the database to the head of every enabled branch, in load order."""
    with app.app_context():
        for branch in branches(app):
            flask_migrate.upgrade(revision=f"{branch}@head")


def init_app(app) -> None:
    migrate.init_app(app, db)
