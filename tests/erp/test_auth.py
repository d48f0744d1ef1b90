"""Login, logout, throttling, CSRF, safe redirects, the permission decorator and record scope."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, select

from erp.auth import apply_scope, in_scope, permission_required
from erp.auth.models import User
from erp.auth.services import safe_next_url
from erp.db import db
from tests.conftest import PASSWORD, csrf_token, login_as


def post_login(client, login, password, **extra):
    data = {"login": login, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/auth/login", data=data)


def test_login_with_user_name_or_email_then_logout(client, users):
    response = post_login(client, "rep_a", PASSWORD)
    assert response.status_code == 302 and response.location == "/"
    assert "Rep_A" in client.get("/").get_data(as_text=True)
    token = csrf_token(client, "/auth/preferences")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302  # back to the login page
    assert post_login(client, "REP_A@example.com", PASSWORD).status_code == 302


def test_wrong_password_is_refused_with_a_message(client, users):
    response = post_login(client, "rep_a", "wrong")
    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_log_in(app, client, users):
    with app.app_context():
        db.session.get(User, users["rep_a"]).active = False
        db.session.commit()
    assert post_login(client, "rep_a", PASSWORD).status_code == 401


def test_failures_shut_the_address_for_that_user_even_with_the_right_password(app, client, users):
    """From that address only: tests/erp/test_login_throttle.py shows the user still
    signs in from another one (the account is never locked)."""
    limit = app.config["ERP_LOGIN_MAX_FAILURES_PER_USER"]
    for _ in range(limit):
        assert post_login(client, "rep_a", "wrong").status_code == 401
    response = post_login(client, "rep_a", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    # Another user from the same address is not affected by this user's lock.
    assert post_login(client, "rep_b", PASSWORD).status_code == 302


def test_address_is_throttled_across_user_names(app, client, users):
    limit = app.config["ERP_LOGIN_MAX_FAILURES_PER_IP"]
    for i in range(limit):
        assert post_login(client, f"guess{i}", "wrong").status_code == 401
    assert post_login(client, "rep_a", PASSWORD).status_code == 429
    other = app.test_client()
    response = other.post("/auth/login", data={
        "login": "rep_a", "password": PASSWORD, "csrf_token": csrf_token(other),
    }, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 302


def test_successful_login_clears_the_users_failures(app, client, users):
    limit = app.config["ERP_LOGIN_MAX_FAILURES_PER_USER"]
    for _ in range(limit - 1):
        post_login(client, "rep_a", "wrong")
    assert post_login(client, "rep_a", PASSWORD).status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/preferences")})
    for _ in range(limit - 1):
        post_login(client, "rep_a", "wrong")
    assert post_login(client, "rep_a", PASSWORD).status_code == 302


def test_post_without_csrf_token_is_rejected(client, users):
    response = client.post("/auth/login", data={"login": "rep_a", "password": PASSWORD})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    login_as(client, users["rep_a"])
    assert client.post("/auth/logout").status_code == 400
    assert client.post("/auth/preferences", data={"locale": "en"}).status_code == 400


def test_logout_needs_a_post(client, users):
    login_as(client, users["rep_a"])
    assert client.get("/auth/logout").status_code == 405


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/crm/?page=2", "/crm/?page=2"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("\\\\evil.example", None),
        ("javascript:alert(1)", None),
        ("crm/", None),
        ("/ok\r\nSet-Cookie: x=1", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next_url(target, expected):
    assert safe_next_url(target) == expected


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(client, users):
    response = post_login(client, "rep_a", PASSWORD, next="/crm/")
    assert response.location == "/crm/"
    client = client.application.test_client()
    response = post_login(client, "rep_a", PASSWORD, next="https://evil.example/")
    assert response.location == "/"


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/crm/")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=")
    assert "crm" in response.location


def test_permission_decorator(client, users):
    login_as(client, users["service"])
    assert client.get("/service/").status_code == 200
    assert client.get("/sales/").status_code == 403
    assert "Access denied" in client.get("/finance/").get_data(as_text=True)


def test_permission_decorator_requires_every_permission(app, users):
    @permission_required("crm.read", "crm.manage")
    def view():
        return "ok"

    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        manager = db.session.get(User, users["manager"])
        from flask_login import login_user
        from werkzeug.exceptions import Forbidden

        with app.test_request_context():
            login_user(rep)
            with pytest.raises(Forbidden):
                view()
        with app.test_request_context():
            login_user(manager)
            assert view() == "ok"


def test_session_cookie_flags(app, client, users):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = post_login(client, "rep_a", PASSWORD)
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- record scope -----------------------------------------------------------------

scope_metadata = MetaData()
notes = Table(
    "test_scope_note",
    scope_metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(40)),
    Column("owner_id", ForeignKey(User.id)),
)


@pytest.fixture
def scoped_notes(app, users):
    """A table of its own, with one note owned by each user."""
    with app.app_context():
        scope_metadata.create_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(notes.insert(), [{"title": name, "owner_id": uid}
                                          for name, uid in users.items()])
    yield
    with app.app_context():
        scope_metadata.drop_all(db.engine)


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("rep_a", {"rep_a"}),  # own
        ("manager", {"manager", "rep_a", "rep_b"}),  # team
        ("admin", {"admin", "manager", "rep_a", "rep_b", "rep_c", "finance", "service",
                   "nobody"}),  # all
        ("finance", {"admin", "manager", "rep_a", "rep_b", "rep_c", "finance", "service",
                     "nobody"}),  # the finance role's scope is all
    ],
)
def test_record_scope_helper(app, users, scoped_notes, who, visible):
    with app.app_context():
        user = db.session.get(User, users[who])
        statement = apply_scope(select(notes.c.title), notes.c.owner_id, user)
        assert set(db.session.scalars(statement)) == visible
        for name, uid in users.items():
            assert in_scope(uid, user) == (name in visible), name


def test_team_scope_without_a_team_falls_back_to_own(app, users, scoped_notes):
    with app.app_context():
        manager = db.session.get(User, users["manager"])
        manager.team = None
        db.session.commit()
        statement = apply_scope(select(notes.c.title), notes.c.owner_id, manager)
        assert set(db.session.scalars(statement)) == {"manager"}


def test_anonymous_has_no_scope(app, scoped_notes):
    from flask_login import AnonymousUserMixin

    with app.app_context():
        statement = apply_scope(select(notes.c.title), notes.c.owner_id, AnonymousUserMixin())
        assert list(db.session.scalars(statement)) == []
        assert in_scope(1, AnonymousUserMixin()) is False


def test_several_roles_give_the_union_of_permissions_and_the_broadest_scope(app, users):
    from erp.auth.models import Role

    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        assert rep.record_scope == "own" and not rep.has_permission("finance.write")
        rep.roles.append(db.session.scalar(select(Role).where(Role.name == "finance")))
        db.session.commit()
        rep = db.session.get(User, users["rep_a"])
        db.session.refresh(rep)
        rep.__dict__.pop("permission_set", None)
        assert rep.record_scope == "all"
        assert rep.has_permission("finance.write") and rep.has_permission("crm.write")
