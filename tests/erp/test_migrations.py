"""Alembic: one branch per module, and a migrated database equal to the models."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from erp.db import db
from erp.migrate import branches, include_object
from erp.models import InstalledModule
from erp.setup import upgrade_database


def schema_diff(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(context, db.metadata)


def test_migrated_schema_equals_the_models(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    newly_installed = upgrade_database(app)
    assert set(newly_installed) == {m.name for m in app.extensions["erp_modules"]}
    assert schema_diff(app) == []
    with app.app_context():
        recorded = db.session.scalars(select(InstalledModule.name)).all()
        assert {"crm", "sales", "finance", "service"} <= set(recorded)
    # A second run changes nothing and installs nothing anew.
    assert upgrade_database(app) == []
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_downgrade_to_base_then_upgrade_again(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    upgrade_database(app)
    with app.app_context():
        for branch in reversed(branches(app)):
            flask_migrate.downgrade(revision=f"{branch}@base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(app)
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_every_branch_is_labelled_after_its_module(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        script = ScriptDirectory.from_config(config)
        labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    assert labels == set(branches(app))
