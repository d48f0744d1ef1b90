"""The shared registry: ordering, duplicate keys, permission filtering, freezing."""

from __future__ import annotations

import pytest

from erp.registry import AccountTab, CreateAction, MenuItem, Permission, Registry, RegistryError


class FakeUser:
    def __init__(self, *permissions):
        self.permissions = set(permissions)

    def has_permission(self, permission):
        return permission in self.permissions


def tab(key, order=100, permission=None):
    return AccountTab(key, key.title(), render=lambda account, args: key, order=order,
                      permission=permission)


def test_order_then_module_position_then_key():
    registry = Registry()
    registry.begin_module("first")
    registry.account_tab(tab("zulu"))
    registry.account_tab(tab("late", order=500))
    registry.begin_module("second")
    registry.account_tab(tab("alpha"))
    registry.account_tab(tab("early", order=1))
    registry.begin_module("first")  # a module seen again keeps its position
    registry.account_tab(tab("bravo"))
    registry.freeze()
    keys = [t.key for t in registry.items("account tab", None, check_permission=False)]
    assert keys == ["early", "bravo", "zulu", "alpha", "late"]


def test_duplicate_key_is_rejected_naming_both_modules():
    registry = Registry()
    registry.begin_module("sales")
    registry.menu_item(MenuItem("sales", "Sales", "sales.index"))
    registry.begin_module("intruder")
    with pytest.raises(RegistryError) as error:
        registry.menu_item(MenuItem("sales", "Other", "intruder.index"))
    assert "duplicate menu item 'sales' from module 'intruder'" in str(error.value)
    assert "already registered by module 'sales'" in str(error.value)


def test_same_key_in_different_kinds_is_allowed():
    registry = Registry()
    registry.begin_module("sales")
    registry.menu_item(MenuItem("sales", "Sales", "sales.index"))
    registry.account_tab(tab("sales"))
    assert registry.get("account tab", "sales").key == "sales"


def test_frozen_registry_refuses_contributions():
    registry = Registry()
    registry.freeze()
    with pytest.raises(RegistryError, match="frozen"):
        registry.account_tab(tab("late"))
    with pytest.raises(RegistryError, match="frozen"):
        registry.begin_module("late")


def test_filtering_by_permission():
    registry = Registry()
    registry.begin_module("m")
    registry.account_tab(tab("open"))
    registry.account_tab(tab("secret", permission="m.secret"))
    registry.create_action(CreateAction("m.new", "New", permission="m.write"))
    registry.freeze()
    assert [t.key for t in registry.account_tabs(FakeUser())] == ["open"]
    assert [t.key for t in registry.account_tabs(FakeUser("m.secret"))] == ["open", "secret"]
    assert registry.create_actions(FakeUser("m.read")) == []
    assert [a.key for a in registry.create_actions(FakeUser("m.write"))] == ["m.new"]
    # Anonymous (no has_permission at all) sees only unguarded items.
    assert [t.key for t in registry.account_tabs(object())] == ["open"]


def test_permissions_are_listed_with_their_module_and_default_roles():
    registry = Registry()
    registry.begin_module("sales")
    registry.permissions("sales.write", Permission("sales.read", "Read", roles=("sales_rep",)))
    assert [p.key for p in registry.all_permissions()] == ["sales.read", "sales.write"]
    assert registry.module_of("permission", "sales.read") == "sales"
    with pytest.raises(RegistryError, match="duplicate permission 'sales.read'"):
        registry.permissions("sales.read")


def test_app_registry_is_frozen_after_startup(app):
    registry = app.extensions["erp"]
    assert registry.frozen
    with pytest.raises(RegistryError):
        registry.menu_item(MenuItem("late", "Late", "home"))


def test_menu_follows_the_users_permissions(app, users, client):
    from tests.conftest import login_as

    login_as(client, users["finance"])
    html = client.get("/").get_data(as_text=True)
    for key in ("crm", "sales", "finance", "service"):
        assert f'data-menu="{key}"' in html  # finance reads every module
    client = app.test_client()
    login_as(client, users["service"])
    html = client.get("/").get_data(as_text=True)
    assert 'data-menu="service"' in html and 'data-menu="crm"' in html
    assert 'data-menu="finance"' not in html and 'data-menu="sales"' not in html
    client = app.test_client()
    login_as(client, users["nobody"])
    html = client.get("/").get_data(as_text=True)
    assert "data-menu=" not in html
    assert "Your roles give access to no module" in html
