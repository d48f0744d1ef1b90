"""Sessions the server can end (issue 13, item 1).

Each test signs in through the real form, keeps the browser's cookies, then replays
them from a fresh client after the event that must end them: a cookie session is
only as revocable as the token the server checks inside it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from erp.auth.models import User
from erp.auth.sessions import load_user
from erp.db import db
from tests.conftest import PASSWORD, csrf_token, login_as

PAGE = "/crm/accounts"


def sign_in(app, login: str, remember: bool = True):
    """A client signed in through the login form; its session and remember cookies."""
    client = app.test_client()
    data = {"login": login, "password": PASSWORD, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    assert client.post("/auth/login", data=data).status_code == 302
    assert client.get(PAGE).status_code == 200
    return client, cookies_of(client)


def cookies_of(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value
            for name in ("session", "remember_token") if client.get_cookie(name)}


def replay(app, cookies: dict[str, str], *names: str) -> int:
    """The status of PAGE for a fresh client holding only the named cookies."""
    other = app.test_client()
    for name in names:
        other.set_cookie(name, cookies[name])
    return other.get(PAGE).status_code


def assert_dead(app, cookies):
    assert replay(app, cookies, "session") == 302
    assert replay(app, cookies, "remember_token") == 302


def assert_alive(app, cookies):
    assert replay(app, cookies, "session") == 200
    assert replay(app, cookies, "remember_token") == 200


def test_replayed_cookies_work_until_logout_then_never_again(app, users):
    client, cookies = sign_in(app, "rep_a")
    assert_alive(app, cookies)  # the replay itself is sound: the same cookies do open the page
    token = csrf_token(client, "/auth/preferences")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert_dead(app, cookies)
    response = app.test_client()
    response.set_cookie("session", cookies["session"])
    assert response.get(PAGE).location.startswith("/auth/login")


def test_logout_ends_the_sessions_on_every_device(app, users):
    laptop, _ = sign_in(app, "rep_a")
    _, phone = sign_in(app, "rep_a@example.com")
    laptop.post("/auth/logout", data={"csrf_token": csrf_token(laptop, "/auth/preferences")})
    assert_dead(app, phone)


def test_password_change_ends_the_users_sessions(app, users):
    _, cookies = sign_in(app, "rep_a")
    _, other_user = sign_in(app, "rep_b")
    with app.app_context():
        db.session.get(User, users["rep_a"]).set_password("another-password")
        db.session.commit()
    assert_dead(app, cookies)
    assert_alive(app, other_user)


def test_admin_changing_a_users_password_ends_that_users_sessions(app, users):
    _, cookies = sign_in(app, "rep_a")
    admin, _ = sign_in(app, "admin")
    response = admin.post(f"/admin/user/edit/?id={users['rep_a']}",
                          data=user_form(app, admin, users["rep_a"], "new-password-1"))
    assert response.status_code == 302
    assert_dead(app, cookies)
    assert admin.get("/admin/").status_code == 200


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(app, users):
    here, _ = sign_in(app, "admin")
    _, elsewhere = sign_in(app, "admin")
    response = here.post(f"/admin/user/edit/?id={users['admin']}",
                         data=user_form(app, here, users["admin"], "new-password-2"))
    assert response.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert_dead(app, elsewhere)
    # This browser's remember cookie was renewed with the new token, not just left dead.
    assert replay(app, cookies_of(here), "remember_token") == 200


def user_form(app, client, user_id: int, new_password: str) -> dict:
    with app.app_context():
        user = db.session.get(User, user_id)
        form = {"username": user.username, "name": user.name, "email": user.email,
                "roles": [str(role.id) for role in user.roles], "active": "y",
                "new_password": new_password}
    form["csrf_token"] = csrf_token(client, f"/admin/user/edit/?id={user_id}")
    return form


def test_deactivation_ends_the_sessions_and_reactivation_does_not_revive_them(app, users):
    _, cookies = sign_in(app, "rep_a")
    with app.app_context():
        db.session.get(User, users["rep_a"]).active = False
        db.session.commit()
    assert_dead(app, cookies)
    with app.app_context():
        db.session.get(User, users["rep_a"]).active = True
        db.session.commit()
    assert_dead(app, cookies)


def test_admin_signs_a_user_out_everywhere(app, users):
    _, cookies = sign_in(app, "rep_a")
    _, bystander = sign_in(app, "rep_b")
    admin, _ = sign_in(app, "admin")
    page = admin.get("/admin/user/").get_data(as_text=True)
    assert "Sign out everywhere" in page
    assert "End every session of the selected users, on every device?" in page  # confirmation
    data = {"action": "sign_out_everywhere", "rowid": [str(users["rep_a"]), "x", "99999999999"],
            "url": "/admin/user/"}
    assert admin.post("/admin/user/action/", data=data).status_code == 400  # no CSRF token
    assert_alive(app, cookies)
    data["csrf_token"] = csrf_token(admin, "/admin/user/")
    response = admin.post("/admin/user/action/", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "1 user signed out everywhere." in response.get_data(as_text=True)
    assert_dead(app, cookies)
    assert_alive(app, bystander)


def test_only_admins_can_sign_users_out(app, users):
    _, cookies = sign_in(app, "rep_a")
    manager, _ = sign_in(app, "manager")
    data = {"action": "sign_out_everywhere", "rowid": str(users["rep_a"]),
            "csrf_token": csrf_token(manager, "/auth/preferences")}
    assert manager.post("/admin/user/action/", data=data).status_code == 403
    assert_alive(app, cookies)


def test_sign_out_of_other_devices_from_preferences(app, users):
    here, _ = sign_in(app, "rep_a")
    _, elsewhere = sign_in(app, "rep_a")
    page = here.get("/auth/preferences").get_data(as_text=True)
    assert "Sign out of other devices" in page
    assert 'data-confirm="Sign out of every other device?"' in page
    response = here.post("/auth/preferences/sign-out-others",
                         data={"csrf_token": csrf_token(here, "/auth/preferences")},
                         follow_redirects=True)
    assert "You have been signed out of every other device." in response.get_data(as_text=True)
    assert_dead(app, elsewhere)
    assert here.get(PAGE).status_code == 200
    assert_alive(app, cookies_of(here))


def test_sign_out_of_other_devices_needs_a_csrf_token_and_a_user(app, users):
    here, _ = sign_in(app, "rep_a")
    _, elsewhere = sign_in(app, "rep_a")
    assert here.post("/auth/preferences/sign-out-others").status_code == 400
    assert_alive(app, elsewhere)
    anonymous = app.test_client()
    response = anonymous.post("/auth/preferences/sign-out-others",
                              data={"csrf_token": csrf_token(anonymous)})
    assert response.status_code == 302 and response.location.startswith("/auth/login")


def test_login_starts_a_new_session(app, users):
    """Nothing planted in the cookie before login survives into the signed-in session,
    and the pre-login cookie replayed afterwards is still anonymous."""
    client = app.test_client()
    token = csrf_token(client)
    with client.session_transaction() as before:
        before["planted"] = "attacker"
        planted_csrf = before["csrf_token"]
    pre_login = client.get_cookie("session").value
    client.post("/auth/login", data={"login": "rep_a", "password": PASSWORD,
                                     "csrf_token": token})
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != planted_csrf
        assert after["_user_id"].startswith(f"{users['rep_a']}:")
    assert replay(app, {"session": pre_login}, "session") == 302


def test_cookies_from_before_session_tokens_are_refused(app, client, users):
    with client.session_transaction() as old:
        old["_user_id"] = str(users["rep_a"])  # what a cookie held before this change
    assert client.get(PAGE).status_code == 302
    login_as(client, users["rep_a"])
    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize("session_id", [
    "", "abc", "{id}", "{id}:", ":{token}", "-{id}:{token}", "99999999999999999999:{token}",
    "{id}:wrong", "{id}:{token}:more", "{id}:{token} ", "{other}:{token}",
])
def test_load_user_refuses_malformed_and_stale_ids(app, users, session_id):
    with app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        session_id = session_id.format(id=user.id, token=user.session_token,
                                        other=users["rep_b"])
        assert load_user(session_id) is None
        assert load_user(user.get_id()) == user


def test_every_user_gets_a_token_of_their_own(app, users):
    with app.app_context():
        tokens = db.session.scalars(select(User.session_token)).all()
        assert len(tokens) == len(set(tokens)) == len(users)
        assert all(re.fullmatch(r"[\w-]{32}", token) for token in tokens)
