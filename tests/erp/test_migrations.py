"""Alembic: one branch per module. That a migrated database equals the models and that
every branch goes down to base and up again is the module contract's
(erp.testing.contract: test_migrated_schema_equals_the_models,
test_migrations_go_down_to_base_and_up_again, run by tests/erp/test_module_contract.py)."""

from __future__ import annotations

from erp.migrate import branches
from erp.testing.contract_checks import schema_diff  # noqa: F401 (tests/finance uses it)


def test_every_branch_is_labelled_after_its_module(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        script = ScriptDirectory.from_config(config)
        labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    assert labels == set(branches(app))


def test_a_table_rebuilt_by_a_migration_is_found_without_its_triggers(
        make_app, empty_database_url):
    """SQLite drops a table's triggers when batch_alter_table rebuilds it: the contract's
    schema checks find the maintained aggregates' triggers missing (autogenerate alone
    compares none)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from erp.db import db
    from erp.setup import upgrade_database
    from erp.testing.contract_checks import missing_triggers

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    upgrade_database(app)
    with app.app_context():
        assert missing_triggers(app) == (set(), set())
        if db.engine.dialect.name != "sqlite":
            return  # PostgreSQL alters a table in place, its triggers kept
        with db.engine.begin() as conn:
            operations = Operations(MigrationContext.configure(conn))
            with operations.batch_alter_table("crm_opportunity", recreate="always"):
                pass  # a rebuild, as a migration changing a column's type does
        missing, extra = missing_triggers(app)
        assert missing and extra == set(), missing
        assert all(name.startswith("crm_") for name in missing), missing
        db.engine.dispose()
