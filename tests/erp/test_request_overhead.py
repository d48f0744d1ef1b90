"""What every request pays, whatever the page (issue 15's throughput): the signed-in user and
their roles in a fixed number of statements (the roles of users loaded as some record's owner
are not read), the registry's contributions sorted once, the layout's menu worked out once a
request however many templates it renders, and the templates' translations catalogue looked
up once a request. Structural properties, no timings."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template_string
from flask_babel import force_locale, refresh
from sqlalchemy import select
from werkzeug.exceptions import NotFound

import erp.i18n
from erp.auth.models import Role, User
from erp.db import db
from erp.registry import MenuItem, Registry, RegistryError
from erp.testing import count_queries
from tests.conftest import login_as
from tests.reporting import queries_for


def _statements(app, client, url: str) -> list[str]:
    with count_queries(app) as statements:
        client.get(url).get_data()
    return [s for s in statements if s.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE")]


def test_a_signed_in_page_reads_the_user_and_roles_once_whatever_the_roles(app, client, users):
    """The search page without a query renders the whole layout (menu, search box, user menu)
    and asks no provider: what is left is the cost of being signed in."""
    login_as(client, users["rep_a"])
    one_role = _statements(app, client, "/search")
    # One statement: the user (a revocable session: its token) with its roles.
    assert len(one_role) == 1, one_role
    assert "auth_user" in one_role[0] and "auth_role" in one_role[0]
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        extra = [Role(name=f"extra {n}", permissions=[f"x.{n}"]) for n in range(5)]
        user.roles.extend(extra)
        db.session.commit()
    assert len(_statements(app, client, "/search")) == len(one_role)


def test_users_loaded_as_owners_do_not_load_their_roles(app, users):
    """An account, contact or opportunity joins its owner; the owner's roles are not read
    unless asked for (they were: a roles query on every page showing a record)."""
    with app.app_context(), count_queries(app) as statements:
        try:
            owners = db.session.scalars(select(User).order_by(User.id)).all()
            assert len(owners) == len(users)
            assert not any("auth_role" in s for s in statements), statements
            assert owners[0].roles is not None  # still there when read
        finally:
            db.session.remove()


def test_a_session_ended_elsewhere_is_still_refused(app, client, users):
    """Loading the user with their roles keeps the revocation check (a new session token)."""
    login_as(client, users["rep_a"])
    assert client.get("/search").status_code == 200
    with app.app_context():
        from erp.auth.sessions import end_sessions

        end_sessions(db.session.get(User, users["rep_a"]))
        db.session.commit()
    assert client.get("/search").status_code == 302


def test_the_layout_is_worked_out_once_a_request(app, client, users, monkeypatch):
    """The home page renders each dashboard widget's template and then its own; the menu the
    user may see is asked of the registry once."""
    asked = []
    items = Registry.items

    def counting(self, kind, user=None, **kwargs):
        if kind is MenuItem:
            asked.append(kind)
        return items(self, kind, user, **kwargs)

    monkeypatch.setattr(Registry, "items", counting)
    login_as(client, users["manager"])
    response = client.get("/")
    assert response.status_code == 200
    assert 'id="erp-menu"' in response.get_data(as_text=True)
    # home() asks once for its quick links, the layout once for every template rendered.
    assert len(asked) == 2


def test_registry_items_are_sorted_once_frozen():
    reads = []

    @dataclass(frozen=True)
    class Thing:
        key: str
        rank: int

        @property
        def order(self):
            reads.append(self.key)
            return self.rank

    registry = Registry()
    registry.declare(Thing)
    registry.add(Thing("b", 2), Thing("a", 1))
    assert [t.key for t in registry.items(Thing)] == ["a", "b"]
    registry.freeze()
    assert [t.key for t in registry.items(Thing)] == ["a", "b"]
    reads.clear()
    assert [t.key for t in registry.items(Thing, check_permission=False)] == ["a", "b"]
    assert reads == []  # the order was kept, not worked out again
    first = registry.items(Thing)
    first.clear()  # a caller's list is its own
    assert [t.key for t in registry.items(Thing)] == ["a", "b"]
    try:
        registry.add(Thing("c", 0))
    except RegistryError:
        pass
    else:
        raise AssertionError("a frozen registry took a contribution")


def test_templates_look_the_catalogue_up_once_a_request(app, monkeypatch):
    looked_up = []
    original = erp.i18n.get_translations

    def counting():
        looked_up.append(1)
        return original()

    monkeypatch.setattr(erp.i18n, "get_translations", counting)
    page = "{{ _('Search') }} {{ _('Sign out') }} {{ _('Search') }} {{ _('Preferences') }}"
    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        assert render_template_string(page).startswith("Pesquisar Sair Pesquisar")
        assert render_template_string(page).startswith("Pesquisar Sair")
        assert len(looked_up) == 1


def test_template_translations_follow_force_locale_and_refresh(app, users):
    from flask import g

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        user = db.session.get(User, users["rep_a"])
        user.locale = "pt_BR"
        g._login_user = user  # signed in, as Flask-Login would have it
        assert render_template_string("{{ _('Search') }}") == "Pesquisar"
        with force_locale("en"):
            assert render_template_string("{{ _('Search') }}") == "Search"
        assert render_template_string("{{ _('Search') }}") == "Pesquisar"
        user.locale = "en"  # the preferences page: a new language, then refresh()
        refresh()
        assert render_template_string("{{ _('Search') }}") == "Search"
        db.session.rollback()


def test_query_count_of_a_cheap_page_is_the_same_for_every_role(app, client, users):
    """Admin, manager, rep and a user without roles: the same statements to be signed in."""
    counts = set()
    for name in ("admin", "manager", "rep_a", "nobody"):
        login_as(client, users[name])
        counts.add(queries_for(app, client, "/search"))
    assert len(counts) == 1, counts


def test_gunicorn_workers_freeze_what_building_the_app_made():
    """serve's gunicorn reads erp.gunicorn_config, whose post_worker_init hides the app's
    long-lived objects from the garbage collector (gc.freeze): the collector no longer goes
    over them as requests make and drop objects."""
    import gc

    from erp import gunicorn_config
    from erp.serve import commands

    web = commands("127.0.0.1", 8000, 2, dev=False)[0]
    assert web[web.index("--config") + 1] == "python:erp.gunicorn_config"
    assert web[web.index("--workers") + 1] == "2"
    assert "--worker-class" not in web  # sync workers, behind a buffering proxy
    before = gc.get_freeze_count()
    try:
        gunicorn_config.post_worker_init(worker=None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_pages_skip_the_api_rate_limit_before_its_limits_are_worked_out(
        app, client, users, monkeypatch):
    """The API's rate limit counts API requests only; a page is let through by a filter
    Flask-Limiter asks first, instead of resolving the limits to find them exempt."""
    from flask_limiter._manager import LimitManager

    resolved = []
    original = LimitManager.resolve_limits

    def counting(self, *args, **kwargs):
        resolved.append(args[1] if len(args) > 1 else None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LimitManager, "resolve_limits", counting)
    login_as(client, users["rep_a"])
    assert client.get("/search").status_code == 200
    assert resolved == []
    from erp.api.tokens import create_token

    with app.app_context():
        token = create_token(db.session.get(User, users["rep_a"]), "limit test")[1]
        db.session.remove()
    api = app.test_client().get("/api/v1/accounts",
                                headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and resolved  # the API is still counted
    assert "X-RateLimit-Limit" in api.headers


def test_an_api_request_reads_its_token_user_and_roles_in_one_statement(app, users):
    from erp.api.tokens import create_token

    with app.app_context():
        token = create_token(db.session.get(User, users["rep_a"]), "one statement")[1]
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts", headers=headers).status_code == 200  # last used
    with count_queries(app) as statements:
        assert client.get("/api/v1/accounts", headers=headers).status_code == 200
    sources = ("FROM erp_api_token", "FROM auth_user\n", "FROM auth_user ", "FROM auth_role",
               "FROM auth_user_role")
    auth = [s for s in statements if any(source in s for source in sources)]
    assert len(auth) == 1, auth  # the token with its user and the user's roles
    assert "auth_role" in auth[0] and "auth_user" in auth[0]


def test_templates_are_read_once_when_not_debugging(make_app, monkeypatch):
    """Outside debug mode Jinja does not check the template files again on every render
    (auto_reload off), and the compiled templates fit its cache (nothing compiled twice)."""
    app = make_app()
    assert not app.debug and app.jinja_env.auto_reload is False
    assert len(app.jinja_env.list_templates()) < app.jinja_env.cache.capacity
    loader = app.jinja_env.loader
    read = []
    get_source = type(loader).get_source

    def counting(self, environment, name):
        read.append(name)
        return get_source(self, environment, name)

    monkeypatch.setattr(type(loader), "get_source", counting)
    with app.test_request_context("/"):
        for _ in range(3):
            app.jinja_env.get_template("errors/404.html").render(error=NotFound())
    assert read.count("errors/404.html") == 1, read
