"""The test kit (erp.testing): a pytest plugin registered by installing Mosaic ERP, whose
fixtures a module's own project uses with no conftest.py (issue 16)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from erp.registry import Factory
from erp.testing import plugin

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        erp_modules = ["sales"]
        erp_schema = "migrations"
    """,
    "tests/test_kit.py": """
        from erp.auth.models import User
        from erp.db import db

        def test_the_modules_and_their_dependencies(app):
            assert [m.name for m in app.extensions["erp_modules"]] == ["crm", "sales"]

        def test_the_schema_was_built_by_the_migrations(app):
            from erp.migrate import migrated_modules
            with app.app_context():
                assert migrated_modules(app) == {"crm": True, "sales": True}

        def test_users_clients_and_factories(app, users, client_as, make_account, make_contact,
                                             query_log):
            assert {"admin", "manager", "rep_a", "rep_b", "rep_c", "nobody"} <= set(users)
            assert "finance" not in users  # no enabled module seeds that role
            account = make_account("rep_b", legal_name="Kit Ltda.")
            contact = make_contact("rep_b", account_id=account, role="Compras", name="Ana")
            with query_log() as statements:
                page = client_as("rep_b").get(f"/crm/accounts/{account}")
            assert page.status_code == 200 and "Kit Ltda." in page.get_data(as_text=True)
            assert statements
            assert client_as("rep_a").get(f"/crm/accounts/{account}").status_code == 404
            with app.app_context():
                assert db.session.get(User, users["rep_b"]).username == "rep_b"
            assert contact

        def test_each_test_starts_from_empty_tables(app, users):
            from modules.crm.models import Account
            with app.app_context():
                assert db.session.scalar(db.select(db.func.count(Account.id))) == 0

        def test_the_api_client_speaks_with_a_token(api_client, make_account):
            make_account("rep_a", legal_name="Api Ltda.")
            response = api_client("rep_a").get("/accounts")
            assert response.status_code == 200
            assert [a["legal_name"] for a in response.json["items"]] == ["Api Ltda."]
    """,
}


def test_installing_mosaic_erp_registers_the_plugin(pytestconfig):
    """Loaded by its entry point (group pytest11), not by a conftest.py of this suite."""
    assert pytestconfig.pluginmanager.get_plugin("erp") is plugin
    loaded_from = {module: dist.metadata["Name"]
                   for module, dist in pytestconfig.pluginmanager.list_plugin_distinfo()}
    assert loaded_from[plugin] == "mosaic-erp"


def test_a_module_project_uses_the_fixtures_with_no_conftest(tmp_path):
    """A project of its own (its own rootdir and settings), as a module's author has: the
    plugin alone gives the app with the chosen modules, users, clients and factories."""
    for name, text in PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    env = {k: v for k, v in os.environ.items() if k != "ERP_TEST_DATABASE_URL"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_factories_come_from_the_registry_and_skip_without_their_module(app, make_app):
    assert app.extensions["erp"].get(Factory, "account").make.__module__.endswith(
        ".factories")
    bare = make_app(ERP_MODULES=[])
    with pytest.raises(pytest.skip.Exception, match="CRM for accounts"):
        plugin._factory(bare, "contact")
