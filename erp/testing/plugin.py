"""The pytest plugin of the test kit: registered as ``erp`` (entry point ``pytest11``), so
installing Mosaic ERP is enough for any project's tests to use these fixtures.

Which modules the apps enable, in the ``[pytest]`` section of the ini file (or
``[tool.pytest.ini_options]`` of ``pyproject.toml``)::

    erp_modules = notes          # and what it depends on; default: every module installed
    erp_module_dirs = addons     # more folders of modules, besides the installed ones
    erp_schema = migrations      # build the schema by the migrations (default: the models)

A test, or a conftest.py, can go further: override the session fixture ``erp_config``
(settings of the session app), or build another app with ``make_app(ERP_MODULES=[...])``.

The database: a SQLite file in a temporary folder, or the PostgreSQL database named by
``ERP_TEST_DATABASE_URL`` (its tables are dropped and made again). The schema is built once
per session, from the enabled modules' models or, with ``erp_schema = migrations``, by
their migrations (the host's branch, then each module's, as ``flask --app erp upgrade``);
after each test that used the app every table is emptied, so each test starts from empty
tables.
"""

from __future__ import annotations

import os

import pytest

from ..db import db
from ..registry import Factory
from . import app as kit
from . import contract_option
from .api import Api, token_for
from .queries import count_queries
from .smtp import SmtpServer

ENV_DATABASE = "ERP_TEST_DATABASE_URL"


def pytest_addoption(parser):
    parser.addini("erp_modules", type="args", default=[],
                  help="erp: the modules the test apps enable, with their dependencies "
                       "(default: every module found)")
    parser.addini("erp_module_dirs", type="paths", default=[],
                  help="erp: more folders of modules (ERP_MODULE_DIRS), relative to the ini file")
    parser.addini("erp_schema", default="models",
                  help="erp: how the session's schema is built: 'models' (create_all, the "
                       "default) or 'migrations' (every enabled branch upgraded to its head)")
    contract_option.add_option(parser)  # --erp-contract


def pytest_configure(config):
    dirs = [str(path) for path in config.getini("erp_module_dirs")]
    kit.SETTINGS["ERP_MODULE_DIRS"] = dirs
    names = config.getini("erp_modules")
    kit.SETTINGS["ERP_MODULES"] = kit.with_dependencies(names, dirs) if names else None
    schema = config.getini("erp_schema").strip() or "models"
    if schema not in kit.SCHEMAS:
        raise pytest.UsageError(f"erp_schema = {schema!r}: expected one of "
                                f"{', '.join(kit.SCHEMAS)}")
    kit.SETTINGS["schema"] = schema
    contract_option.configure(config)  # --erp-contract: the module contract joins the run


def pytest_report_header(config):
    kind = "postgresql" if os.environ.get(ENV_DATABASE) else "sqlite"
    modules = kit.SETTINGS["ERP_MODULES"]
    return (f"database: {kind}; erp modules: {', '.join(modules) if modules else 'all found'}"
            f"; schema from the {kit.SETTINGS['schema']}")


# --- the app and its database ------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """``ERP_TEST_DATABASE_URL``, or a SQLite file in a temporary folder."""
    url = os.environ.get(ENV_DATABASE)
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def erp_config() -> dict:
    """Settings of the session ``app`` over :func:`erp.testing.base_config`'s (override it in
    a conftest.py: ``return {"ERP_MODULES": ["crm", "notes"]}``)."""
    return {}


@pytest.fixture(scope="session")
def app(database_url, erp_config):
    """The app of the session, its schema made once from the enabled modules' models (or
    by their migrations: ``erp_schema = migrations``)."""
    from .. import create_app

    app = create_app(kit.base_config(database_url, **erp_config))
    kit.create_schema(app, database_url, kit.SETTINGS["schema"])
    return app


@pytest.fixture(autouse=True)
def _clean_tables(request, database_url):
    """Empty every table after each test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    kit.empty_tables(request.getfixturevalue("app"))


@pytest.fixture
def ctx(app):
    """An app context for tests that use the database directly (not with the test client)."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make_app(database_url, erp_config):
    """Build another app (other modules, other settings) on the same database."""
    from .. import create_app

    def factory(**overrides):
        return create_app(kit.base_config(database_url, **{**erp_config, **overrides}))

    return factory


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A new, empty database on the same server as the suite's (or a new SQLite file),
    dropped afterwards: for tests of what setup and migrations build from nothing."""
    with kit.empty_database(database_url, tmp_path) as url:
        yield url


# --- users and clients -------------------------------------------------------------------------


@pytest.fixture
def users(app) -> dict[str, int]:
    """The seeded roles with every module's defaults, and a user per role; their ids by name.

    admin; manager (sales_manager), rep_a and rep_b (sales_rep) in team "Sales"; rep_c
    (sales_rep) in team "Other"; finance; service; a user named after any other role a
    module seeds; nobody (no role). A user whose role no enabled module seeds is left out.
    Made in an app context of its own: a test that kept one open would share it (and
    Flask-Login's cached user) with every request of its test client.
    """
    return kit.seed_users(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def client_as(app, users):
    """A new test client logged in as one of the ``users``: ``client_as("rep_a")``."""

    def factory(name: str):
        client = app.test_client()
        kit.login_as(client, users[name])
        return client

    return factory


@pytest.fixture
def api_client(app, users):
    """An :class:`erp.testing.Api` with a new token of one of the ``users``:
    ``api_client("rep_a").get("/notes")`` calls ``/api/v1/notes`` with it."""

    def factory(name: str) -> Api:
        return Api(app.test_client(), token_for(app, users[name]))

    return factory


# --- records of the installed modules ------------------------------------------------------------


def _factory(app, key: str) -> Factory:
    found = app.extensions["erp"].get(Factory, key)
    if found is None:
        pytest.skip(f"no enabled module makes a {key!r} (erp.registry.Factory): "
                    "the module that owns it (CRM for accounts) is not enabled")
    return found


def _make(app, users, key: str, owner: str, data: dict) -> int:
    from ..auth.models import User

    factory = _factory(app, key)
    with app.app_context():
        record = factory.make(db.session.get(User, users[owner]), **data)
        record_id = record.id
        db.session.remove()
    return record_id


@pytest.fixture
def make_account(app, users):
    """Create an account as (and owned by) one of the ``users``; returns its id.

    ``make_account("rep_b", legal_name="Acme Ltda.")``. Made by the module that registers the
    ``Factory("account")`` (CRM): without it, the test is skipped.
    """
    _factory(app, "account")

    def factory(owner: str = "rep_a", **data) -> int:
        return _make(app, users, "account", owner, data)

    return factory


@pytest.fixture
def make_contact(app, users):
    """Create a contact as one of the ``users``, linked to ``account_id`` in ``role`` when
    given; returns its id. Skips the test without a module that makes contacts (CRM)."""
    _factory(app, "contact")

    def factory(owner: str = "rep_a", account_id: int | None = None, role: str | None = None,
                **data) -> int:
        return _make(app, users, "contact", owner,
                     {"account_id": account_id, "role": role, **data})

    return factory


# --- SQL statements ------------------------------------------------------------------------------


@pytest.fixture
def query_log(app):
    """``with query_log() as statements: ...``: the SQL statements run meanwhile."""

    def log():
        return count_queries(app)

    return log


# --- mail ----------------------------------------------------------------------------------------


@pytest.fixture
def start_smtp():
    """Start real SMTP servers on free loopback ports; all stopped after the test."""
    servers: list[SmtpServer] = []

    def start(**smtp_options) -> SmtpServer:
        server = SmtpServer(**smtp_options)
        server.controller.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.controller.stop()


@pytest.fixture
def smtp(start_smtp) -> SmtpServer:
    """A started SMTP server: ``smtp.port``, and ``smtp.envelopes`` it received."""
    return start_smtp()


@pytest.fixture
def closed_port():
    """A loopback port bound but not listening: connections are refused at once."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def mail_config(app):
    """Set app.config keys for one test (mail to 127.0.0.1 by default: point
    ``ERP_MAIL_PORT`` at ``smtp.port``); the old values come back afterwards."""
    saved: dict = {}

    def configure(**values) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    configure(ERP_MAIL_SERVER="127.0.0.1", ERP_MAIL_TIMEOUT=5,
              ERP_MAIL_FROM="Mosaic ERP <erp@mosaic.example>")
    yield configure
    app.config.update(saved)
