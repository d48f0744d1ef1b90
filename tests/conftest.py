"""Shared fixtures.

The suite runs on a SQLite file by default, and on PostgreSQL when
``ERP_TEST_DATABASE_URL`` is set (``.ci/run`` does both). The schema is created
once per session; each test starts from empty tables.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from erp import create_app
from erp.auth.models import Team, User
from erp.auth.seed import ensure_default_roles, grant_module_defaults
from erp.db import db

pytest_plugins = ["tests.smtp"]

PASSWORD = "correct horse battery"


def pytest_report_header(config):
    return f"database: {_database_kind()}"


def _database_kind() -> str:
    return "postgresql" if os.environ.get("ERP_TEST_DATABASE_URL") else "sqlite"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("ERP_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def base_config(database_url: str, instance_path=None, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ERP_DISCOVER_ENTRY_POINTS": True,
        "ERP_MODULES": None,
        "ERP_MODULE_DIRS": [str(Path(__file__).parent / "example_modules")],
        "BABEL_DEFAULT_LOCALE": "en",
        # Background tasks run at once, in the caller (tests that need the real worker
        # process start one: tests/erp/worker.py).
        "TASKS_IMMEDIATE": True,
        # Queued mail is not delivered on commit (with TASKS_IMMEDIATE that would be in the
        # caller): tests deliver with erp.mail.deliver_due, or turn this on (test_mail.py).
        "ERP_MAIL_DELIVER_ON_QUEUE": False,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(base_config(database_url))
    with app.app_context():
        db.drop_all()
        if database_url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
    return app


@pytest.fixture(autouse=True)
def _clean_tables(request, database_url):
    """Empty every table after each test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def ctx(app):
    """An app context for tests that use the database directly (not with the test client)."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make_app(database_url):
    """Build another app (other modules, other settings) on the same database."""

    def factory(**overrides):
        return create_app(base_config(database_url, **overrides))

    return factory


@functools.cache
def password_hash() -> str:
    """Hashing is slow by design: hash the test password once per run."""
    return generate_password_hash(PASSWORD)


def make_user(username: str, roles: list, team: Team | None = None, **fields) -> User:
    user = User(username=username, name=fields.pop("name", username.title()),
                email=f"{username}@example.com", roles=roles, team=team,
                password_hash=password_hash(), **fields)
    db.session.add(user)
    return user


@pytest.fixture
def users(app):
    """The seeded roles with every module's defaults, and a user per role; returns their ids.

    rep_a and rep_b share the sales team with the manager; rep_c is in another team.
    Made in an app context of its own: a test that kept one open would share it (and
    Flask-Login's cached user) with every request of its test client.
    """
    with app.app_context():
        registry = app.extensions["erp"]
        roles = ensure_default_roles()
        for module in app.extensions["erp_modules"]:
            grant_module_defaults(registry, module.name, roles)
        sales, other = Team(name="Sales"), Team(name="Other")
        db.session.add_all([sales, other])
        people = {
            "admin": make_user("admin", [roles["admin"]]),
            "manager": make_user("manager", [roles["sales_manager"]], sales),
            "rep_a": make_user("rep_a", [roles["sales_rep"]], sales),
            "rep_b": make_user("rep_b", [roles["sales_rep"]], sales),
            "rep_c": make_user("rep_c", [roles["sales_rep"]], other),
            "finance": make_user("finance", [roles["finance"]]),
            "service": make_user("service", [roles["service"]]),
            "nobody": make_user("nobody", []),
        }
        db.session.commit()
        ids = {name: user.id for name, user in people.items()}
        db.session.remove()
    return ids


@pytest.fixture
def client(app):
    return app.test_client()


def login_as(client, user_id: int) -> None:
    """Log a test client in without the form (the form itself has its own tests)."""
    with client.application.app_context():
        session_id = db.session.get(User, user_id).get_id()  # "<id>:<session token>"
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/auth/login") -> str:
    """The CSRF token a real browser would post, read from a page's form."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A new, empty database on the same server as the suite's (or a new SQLite file),
    dropped afterwards: for tests of what setup and migrations build from nothing."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = f"erp_empty_{uuid.uuid4().hex[:8]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()
