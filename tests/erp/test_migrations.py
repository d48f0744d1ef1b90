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
