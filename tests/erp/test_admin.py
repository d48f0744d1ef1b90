"""The admin is for admins only, lists every module's models, and edits users and roles."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from erp.auth.models import Role, User
from erp.db import db
from erp.registry import Permission
from tests.conftest import csrf_token, login_as

ADMIN_PAGES = ["/admin/", "/admin/user/", "/admin/role/", "/admin/team/", "/admin/installedmodule/"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=")


@pytest.mark.parametrize("who", ["rep_a", "manager", "finance", "nobody"])
@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_non_admins_get_403(client, users, who, url):
    login_as(client, users[who])
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_opens_every_page(client, users, url):
    login_as(client, users["admin"])
    assert client.get(url).status_code == 200


def test_admin_home_lists_installed_modules(app, client, users):
    from erp.setup import record_modules

    with app.app_context():
        record_modules()
    login_as(client, users["admin"])
    html = client.get("/admin/").get_data(as_text=True)
    table = html[html.index('id="installed-modules"'):]
    for module in app.extensions["erp_modules"]:
        assert f"<td>{module.name}</td><td>{module.manifest.version}</td>" in table


def test_admin_creates_a_user_who_can_then_log_in(app, client, users):
    login_as(client, users["admin"])
    with app.app_context():
        rep_role = db.session.scalar(select(Role.id).where(Role.name == "sales_rep"))
    token = csrf_token(client, "/admin/user/new/")
    form = {"csrf_token": token, "username": "Nova", "name": "Nova Pessoa",
            "email": "Nova@Example.com", "roles": str(rep_role), "active": "y",
            "new_password": "s3nha-segura"}
    response = client.post("/admin/user/new/", data=form)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "nova"))
        assert user.email == "nova@example.com"
        assert user.check_password("s3nha-segura")
        assert [r.name for r in user.roles] == ["sales_rep"]


def test_admin_user_form_without_token_is_rejected(client, users):
    login_as(client, users["admin"])
    response = client.post("/admin/user/new/", data={"username": "x", "name": "x",
                                                     "email": "x@example.com",
                                                     "new_password": "longenough"})
    assert response.status_code == 400


def test_role_form_offers_every_registered_permission(app, client, users):
    login_as(client, users["admin"])
    with app.app_context():
        role_id = db.session.scalar(select(Role.id).where(Role.name == "service"))
    html = client.get(f"/admin/role/edit/?id={role_id}").get_data(as_text=True)
    offered = set(re.findall(r'<option[^>]*value="([a-z_]+(?:\.[a-z_]+)+)"', html))
    registry = app.extensions["erp"]
    registered = {p.key for p in registry.items(Permission, check_permission=False)}
    assert registered and offered == registered


def test_admin_views_contributed_by_modules_appear(tmp_path, make_app, users):
    from .modfactory import modules_folder, unique, write_module

    folder = modules_folder(tmp_path)
    name = unique("adm")
    write_module(folder, name, body="""
        from erp.models import InstalledModule
        from erp.registry import AdminView
        registry.add(AdminView(InstalledModule, category="Test", name="Installed again"))
    """)
    # The contributed view's key is the table name, so a second app on the same
    # model keeps one endpoint per app.
    app = make_app(ERP_MODULE_DIRS=[str(folder)])
    client = app.test_client()
    login_as(client, users["admin"])
    assert client.get("/admin/erp_module/").status_code == 200
    login_as(client, users["rep_a"])
    assert client.get("/admin/erp_module/").status_code == 403
