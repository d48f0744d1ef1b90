"""The app, the database and the users of a test run (plain functions: the fixtures of
:mod:`erp.testing.plugin` are built on them, and a test may call them directly)."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from ..auth.models import Team, User
from ..auth.seed import ensure_default_roles, grant_module_defaults
from ..db import db

PASSWORD = "correct horse battery"  # noqa: S105 (every test user's password)

# What the plugin read from the ini file (``erp_modules``, ``erp_module_dirs``): the modules
# every app of the run enables unless a test says otherwise.
SETTINGS: dict = {"ERP_MODULES": None, "ERP_MODULE_DIRS": [], "schema": "models"}
SCHEMAS = ("models", "migrations")  # how the session's schema is built (``erp_schema``)


def base_config(database_url: str, instance_path=None, **overrides) -> dict:
    """The configuration of a test app on ``database_url``; ``overrides`` win."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ERP_DISCOVER_ENTRY_POINTS": True,
        "ERP_MODULES": SETTINGS["ERP_MODULES"],
        "ERP_MODULE_DIRS": list(SETTINGS["ERP_MODULE_DIRS"]),
        # Not the instance folder's list of modules disabled with `module disable` (a
        # developer's choice there would change the suite); a test that wants one sets it.
        "ERP_DISABLED_MODULES_FILE": None,
        "BABEL_DEFAULT_LOCALE": "en",
        # Background tasks run at once, in the caller (tests that need the real worker
        # process start one).
        "TASKS_IMMEDIATE": True,
        # Queued mail is not delivered on commit (with TASKS_IMMEDIATE that would be in the
        # caller): tests deliver with erp.mail.deliver_due, or turn this on.
        "ERP_MAIL_DELIVER_ON_QUEUE": False,
    }
    config.update(overrides)
    return config


def with_dependencies(names, module_dirs=(), entry_points: bool = True) -> list[str]:
    """``names`` and every module they depend on, directly or not (unknown names are
    left for the loader to report)."""
    from ..modules import discover

    available = discover(module_dirs, entry_points=entry_points)
    wanted: list[str] = []

    def add(name: str) -> None:
        if name in wanted:
            return
        module = available.get(name)
        for dependency in module.manifest.depends if module else ():
            add(dependency)
        wanted.append(name)

    for name in names:
        add(name)
    return wanted


@functools.cache
def password_hash() -> str:
    """Hashing is slow by design: hash the test password once per run."""
    return generate_password_hash(PASSWORD)


def make_user(username: str, roles: list, team: Team | None = None, **fields) -> User:
    """A user with :data:`PASSWORD`, added to the session (not committed)."""
    user = User(username=username, name=fields.pop("name", username.title()),
                email=f"{username}@example.com", roles=roles, team=team,
                password_hash=password_hash(), **fields)
    db.session.add(user)
    return user


# The users every suite gets, when their role is seeded (by the host or an enabled module):
# rep_a and rep_b share the "Sales" team with the manager; rep_c is in "Other".
PEOPLE = (
    ("admin", "admin", None),
    ("manager", "sales_manager", "Sales"),
    ("rep_a", "sales_rep", "Sales"),
    ("rep_b", "sales_rep", "Sales"),
    ("rep_c", "sales_rep", "Other"),
    ("finance", "finance", None),
    ("service", "service", None),
)


def seed_users(app) -> dict[str, int]:
    """The seeded roles with every enabled module's default permissions, and the users of
    :data:`PEOPLE` whose role exists; any other seeded role gets a user named after it;
    "nobody" has no role. Returns their ids by name."""
    with app.app_context():
        registry = app.extensions["erp"]
        roles = ensure_default_roles()
        for module in app.extensions["erp_modules"]:
            grant_module_defaults(registry, module.name, roles)
        teams = {"Sales": Team(name="Sales"), "Other": Team(name="Other")}
        db.session.add_all(teams.values())
        people = {}
        for username, role, team in PEOPLE:
            if role in roles:
                people[username] = make_user(username, [roles[role]], teams.get(team))
        named = {role for _username, role, _team in PEOPLE}
        for role in sorted(set(roles) - named):
            if role not in people:
                people[role] = make_user(role, [roles[role]])
        people["nobody"] = make_user("nobody", [])
        db.session.commit()
        ids = {name: user.id for name, user in people.items()}
        db.session.remove()
    return ids


def empty_tables(app) -> None:
    """Delete every row of every table of the app's models (children first)."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


def create_schema(app, database_url: str, schema: str = "models") -> None:
    """Drop every table the database has (an earlier run's, with other modules', and any
    migration stamp included), then create those of the app's models, or (``schema=
    "migrations"``) upgrade every enabled branch to its head."""
    with app.app_context():
        existing = MetaData()
        existing.reflect(db.engine)
        existing.drop_all(db.engine)
        if schema == "migrations":
            from ..migrate import upgrade_all

            upgrade_all(app)
        else:
            db.create_all()


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


@contextmanager
def empty_database(database_url: str, folder) -> Iterator[str]:
    """A new, empty database on the server of ``database_url`` (a new SQLite file in
    ``folder`` for SQLite), dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{folder / 'empty.sqlite3'}"
        return
    url = make_url(database_url)
    name = f"erp_empty_{uuid.uuid4().hex[:8]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
