"""The host's own suite runs on the test kit, erp.testing: its pytest plugin (``erp``,
registered by installing Mosaic ERP) gives every fixture (app, client, users, ctx,
make_app, database_url, empty_database_url, make_account, make_contact, smtp...), and the
apps enable every installed module: the Notes example (examples/notes) too, which
``make test`` installs with pip.

The suite runs on a SQLite file by default, and on PostgreSQL when
``ERP_TEST_DATABASE_URL`` is set (``.ci/run`` does both). The schema is created
once per session; each test starts from empty tables.

The helpers below are the kit's, named here for the tests that import them from here.
"""

from __future__ import annotations

import importlib.metadata

import pytest

from erp.testing import (  # noqa: F401 (re-exported)
    CSRF_RE,
    PASSWORD,
    base_config,
    csrf_token,
    login_as,
    make_user,
    password_hash,
)


def pytest_configure(config):
    """The suite tests the host through the Notes example too: say how to install it."""
    if not any(ep.name == "notes" for ep in importlib.metadata.entry_points(group="erp.modules")):
        raise pytest.UsageError(
            "the Notes example module is not installed: run `make test`, or put the folder "
            "`make install-test` installs it in (.venv/test-site) on PYTHONPATH")
