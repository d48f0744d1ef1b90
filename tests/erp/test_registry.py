"""The shared registry: kinds declared by their owners, items filed by type, ordering,
duplicate keys, permission filtering, freezing; and what the host builds from it — the
seeded roles, the search box's placeholder, the Reports entry, the template helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp.auth.models import SCOPE_ALL, SCOPE_OWN, SCOPE_TEAM, Role, User
from erp.auth.seed import ensure_default_roles, grant_module_defaults
from erp.db import db
from erp.modules import is_enabled
from erp.registry import (
    ALL,
    HOST_KINDS,
    OWN,
    TEAM,
    MenuItem,
    Permission,
    Registry,
    RegistryError,
    Report,
    SearchProvider,
    TemplateFilter,
    TemplateGlobal,
)
from erp.registry import Role as RoleContribution
from erp.setup import upgrade_database
from modules.crm.kinds import AccountTab, CreateAction
from tests.conftest import login_as

from .modfactory import modules_folder, unique, write_module


class FakeUser:
    def __init__(self, *permissions):
        self.permissions = set(permissions)

    def has_permission(self, permission):
        return permission in self.permissions


def tab(key, order=100, permission=None):
    return AccountTab(key, key.title(), render=lambda account, args: key, order=order,
                      permission=permission)


def new_registry(*kinds) -> Registry:
    registry = Registry()
    registry.declare(*kinds)
    return registry


# --- kinds and items -------------------------------------------------------------------------


def test_items_are_filed_under_their_class_and_read_by_it():
    registry = new_registry(MenuItem, Permission)
    registry.begin_module("crm")
    registry.declare(AccountTab)  # a module declares the kinds it owns
    registry.add(MenuItem("crm", "CRM", "crm.accounts"), tab("timeline"))
    registry.add(Permission("crm.read"))
    assert [i.key for i in registry.items(MenuItem)] == ["crm"]
    assert [t.key for t in registry.items(AccountTab)] == ["timeline"]
    assert registry.get(AccountTab, "timeline").label == "Timeline"
    assert registry.get(AccountTab, "nothing") is None
    assert registry.get(CreateAction, "timeline") is None  # a kind nobody declared: none
    assert registry.items(CreateAction) == []
    assert registry.module_of(AccountTab, "timeline") == "crm"
    assert registry.owner_of(AccountTab) == "crm" and registry.owner_of(MenuItem) == "erp"
    assert registry.declared(AccountTab) and not registry.declared(CreateAction)


def test_an_item_of_an_undeclared_kind_is_refused_naming_the_kind():
    registry = new_registry(MenuItem)
    registry.begin_module("notes")
    with pytest.raises(RegistryError, match="AccountTab is not a declared kind"):
        registry.add(tab("notes"))
    with pytest.raises(RegistryError, match="str is not a declared kind"):
        registry.add("notes.read")  # a permission is a Permission, never a bare string


def test_a_kind_is_declared_once():
    registry = new_registry(MenuItem)
    registry.begin_module("crm")
    registry.declare(AccountTab)
    registry.begin_module("other")
    with pytest.raises(RegistryError, match="AccountTab is already declared, by module 'crm'"):
        registry.declare(AccountTab)
    with pytest.raises(RegistryError, match="already declared, by module 'erp'"):
        registry.declare(MenuItem)
    with pytest.raises(RegistryError, match="a kind is a class"):
        registry.declare("menu item")


def test_order_then_module_position_then_key():
    registry = new_registry(AccountTab)
    registry.begin_module("first")
    registry.add(tab("zulu"))
    registry.add(tab("late", order=500))
    registry.begin_module("second")
    registry.add(tab("alpha"), tab("early", order=1))
    registry.begin_module("first")  # a module seen again keeps its position
    registry.add(tab("bravo"))
    registry.freeze()
    keys = [t.key for t in registry.items(AccountTab, None, check_permission=False)]
    assert keys == ["early", "bravo", "zulu", "alpha", "late"]
    assert registry.modules == ("first", "second")


def test_duplicate_key_is_rejected_naming_both_modules():
    registry = new_registry(MenuItem)
    registry.begin_module("sales")
    registry.add(MenuItem("sales", "Sales", "sales.index"))
    registry.begin_module("intruder")
    with pytest.raises(RegistryError) as error:
        registry.add(MenuItem("sales", "Other", "intruder.index"))
    assert "duplicate menu item 'sales' from module 'intruder'" in str(error.value)
    assert "already registered by module 'sales'" in str(error.value)


def test_an_item_needs_a_text_key():
    registry = new_registry(MenuItem)
    with pytest.raises(RegistryError, match="menu item contribution needs a non-empty text key"):
        registry.add(MenuItem("", "Nothing", "home"))


def test_same_key_in_different_kinds_is_allowed():
    registry = new_registry(MenuItem, AccountTab)
    registry.begin_module("sales")
    registry.add(MenuItem("sales", "Sales", "sales.index"), tab("sales"))
    assert registry.get(AccountTab, "sales").key == "sales"
    assert registry.get(MenuItem, "sales").endpoint == "sales.index"


def test_frozen_registry_refuses_contributions_and_kinds():
    registry = new_registry(AccountTab)
    registry.freeze()
    with pytest.raises(RegistryError, match="frozen"):
        registry.add(tab("late"))
    with pytest.raises(RegistryError, match="frozen"):
        registry.declare(CreateAction)
    with pytest.raises(RegistryError, match="frozen"):
        registry.begin_module("late")


def test_filtering_by_permission_and_by_condition():
    registry = new_registry(AccountTab, CreateAction, MenuItem)
    registry.begin_module("m")
    registry.add(tab("open"), tab("secret", permission="m.secret"))
    registry.add(CreateAction("m.new", "New", permission="m.write"))
    registry.add(MenuItem("m", "M", "m.index",
                          visible=lambda user: user.has_permission("m.special")))
    registry.freeze()
    assert [t.key for t in registry.items(AccountTab, FakeUser())] == ["open"]
    assert [t.key for t in registry.items(AccountTab, FakeUser("m.secret"))] == ["open",
                                                                                "secret"]
    assert registry.items(CreateAction, FakeUser("m.read")) == []
    assert [a.key for a in registry.items(CreateAction, FakeUser("m.write"))] == ["m.new"]
    # Anonymous (no has_permission at all) sees only unguarded items.
    assert [t.key for t in registry.items(AccountTab, object())] == ["open"]
    assert registry.items(MenuItem, FakeUser()) == []
    assert [i.key for i in registry.items(MenuItem, FakeUser("m.special"))] == ["m"]
    assert len(registry.items(MenuItem, FakeUser(), check_permission=False)) == 1


def test_permissions_are_listed_with_their_module_and_default_roles():
    registry = new_registry(Permission)
    registry.begin_module("sales")
    registry.add(Permission("sales.write"), Permission("sales.read", "Read", roles=("sales_rep",)))
    keys = sorted(p.key for p in registry.items(Permission, check_permission=False))
    assert keys == ["sales.read", "sales.write"]
    assert registry.module_of(Permission, "sales.read") == "sales"
    with pytest.raises(RegistryError, match="duplicate permission 'sales.read'"):
        registry.add(Permission("sales.read"))


def test_a_role_has_a_known_scope():
    assert (OWN, TEAM, ALL) == (SCOPE_OWN, SCOPE_TEAM, SCOPE_ALL)
    with pytest.raises(RegistryError, match="scope must be OWN, TEAM or ALL"):
        RoleContribution("clerk", "Clerk", scope="everything")


def test_the_app_declares_the_host_kinds_and_crm_its_own(app):
    registry = app.extensions["erp"]
    for kind in HOST_KINDS:
        assert registry.owner_of(kind) == "erp", kind
    for kind in (AccountTab, CreateAction):
        assert registry.owner_of(kind) == "crm", kind
    assert registry.modules[0] == "crm"


def test_app_registry_is_frozen_after_startup(app):
    registry = app.extensions["erp"]
    assert registry.frozen
    with pytest.raises(RegistryError):
        registry.add(MenuItem("late", "Late", "home"))


def test_is_enabled_tells_which_modules_this_app_runs(app, make_app):
    assert not is_enabled("crm")  # outside an app context: no module
    with app.app_context():
        assert is_enabled("crm") and is_enabled("finance") and not is_enabled("nosuch")
    with make_app(ERP_MODULES=["crm"]).app_context():
        assert is_enabled("crm") and not is_enabled("finance")


def test_menu_follows_the_users_permissions(app, users, client):
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


# --- roles -----------------------------------------------------------------------------------


def test_roles_are_seeded_from_the_contributions(app, ctx):
    registry = app.extensions["erp"]
    contributed = {role.key: role for role in registry.items(RoleContribution)}
    assert {key: registry.module_of(RoleContribution, key) for key in contributed} == {
        "sales_manager": "crm", "sales_rep": "crm", "finance": "finance", "service": "service"}
    roles = ensure_default_roles()
    assert set(roles) == {"admin", *contributed}
    assert roles["admin"].is_admin and roles["admin"].scope == SCOPE_ALL
    scopes = {name: role.scope for name, role in roles.items() if name != "admin"}
    assert scopes == {"sales_manager": SCOPE_TEAM, "sales_rep": SCOPE_OWN,
                      "finance": SCOPE_ALL, "service": SCOPE_ALL}
    assert not any(role.is_admin or role.permissions for name, role in roles.items()
                   if name != "admin")
    assert roles["finance"].description == "Finance clerk: invoices, receivables and payments"
    for module in app.extensions["erp_modules"]:
        grant_module_defaults(registry, module.name, roles)
    # crm.read names the roles finance and service bring; sales grants to CRM's roles.
    assert {"crm.read", "finance.read", "finance.write", "sales.read", "sales.write",
            "service.read"} == set(roles["finance"].permissions)
    assert {"crm.read", "crm.write", "sales.read", "sales.write"} <= set(
        roles["sales_rep"].permissions)
    assert "notes.read" in roles["sales_rep"].permissions  # Notes grants to CRM's role


def test_an_existing_role_is_never_changed(app, ctx):
    db.session.add(Role(name="finance", description="Ours", scope=SCOPE_OWN, is_admin=False,
                        permissions=["crm.read"]))
    db.session.commit()
    roles = ensure_default_roles()
    db.session.commit()
    finance = db.session.scalar(select(Role).where(Role.name == "finance"))
    assert roles["finance"] is finance
    assert (finance.description, finance.scope, finance.permissions) == ("Ours", SCOPE_OWN,
                                                                         ["crm.read"])
    assert db.session.scalar(select(db.func.count(Role.id)).where(Role.name == "finance")) == 1


def test_a_role_is_created_when_its_module_is_installed(make_app, empty_database_url):
    """CRM alone: its roles, no other; finance enabled later brings its role, which gets
    CRM's permissions that name it; the roles that exist keep an administrator's edits."""
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url, ERP_MODULES=["crm"])
    assert upgrade_database(app) == ["crm"]

    def roles() -> dict[str, Role]:
        db.session.rollback()
        return {role.name: role for role in db.session.scalars(select(Role))}

    with app.app_context():
        assert set(roles()) == {"admin", "sales_manager", "sales_rep"}
        roles()["sales_rep"].permissions = ["crm.read"]  # an administrator's choice
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url, ERP_MODULES=["crm", "finance"])
    assert upgrade_database(app) == ["finance"]
    with app.app_context():
        found = roles()
        assert set(found) == {"admin", "sales_manager", "sales_rep", "finance"}
        assert set(found["finance"].permissions) == {"crm.read", "finance.read",
                                                     "finance.write"}
        assert found["finance"].scope == SCOPE_ALL
        assert found["sales_rep"].permissions == ["crm.read"]  # kept as the admin left it
        assert "finance.read" in found["sales_manager"].permissions  # finance grants to it
        db.session.remove()
        db.engine.dispose()


OWN_ROLE = '''
from erp.registry import OWN, Permission, Role

registry.add(WebBlueprint(bp))
registry.add(Role("fleet_clerk", "Fleet clerk: the vehicles", scope=OWN))
registry.add(Permission("fleet.read", "See vehicles", roles=("fleet_clerk", "sales_manager")))
'''


def test_a_module_brings_its_own_role(tmp_path, make_app, empty_database_url):
    folder = modules_folder(tmp_path)
    name = unique("fleet")
    write_module(folder, name, depends=("crm",), body=OWN_ROLE)
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url, ERP_MODULE_DIRS=[str(folder)],
                   ERP_MODULES=["crm", name])
    assert set(upgrade_database(app)) == {"crm", name}
    with app.app_context():
        roles = {role.name: role for role in db.session.scalars(select(Role))}
        assert set(roles) == {"admin", "sales_manager", "sales_rep", "fleet_clerk"}
        clerk = roles["fleet_clerk"]
        assert (clerk.description, clerk.scope, clerk.permissions) == (
            "Fleet clerk: the vehicles", SCOPE_OWN, ["fleet.read"])
        assert "fleet.read" in roles["sales_manager"].permissions
        db.session.remove()
        db.engine.dispose()


# --- what the layout builds from contributions ------------------------------------------------


def placeholder(html: str) -> str:
    start = html.index('type="search" name="q"')
    field = html[start:html.index(">", start)]
    return field.split('placeholder="', 1)[1].split('"', 1)[0]


def test_the_search_box_says_what_the_users_providers_search(app, client, users):
    providers = app.extensions["erp"].items(SearchProvider, check_permission=False)
    assert [p.key for p in providers if p.hint] == ["crm.accounts"]
    for who in ("admin", "manager", "rep_a", "finance", "service"):
        client = app.test_client()
        login_as(client, users[who])
        assert placeholder(client.get("/").get_data(as_text=True)) == \
            "Search: name, CNPJ/CPF, phone, e-mail…", who
    html = client.get("/search?q=x").get_data(as_text=True)
    assert 'placeholder="Name, CNPJ/CPF, phone, e-mail…"' in html
    client = app.test_client()
    login_as(client, users["nobody"])  # no provider: no hint
    assert placeholder(client.get("/").get_data(as_text=True)) == "Search…"
    assert "placeholder" not in client.get("/search?q=x").get_data(as_text=True).split(
        'name="q"')[2].split(">")[0]


def test_the_search_box_in_portuguese(app, client, users, ctx):
    db.session.get(User, users["rep_a"]).locale = "pt_BR"
    db.session.commit()
    login_as(client, users["rep_a"])
    assert placeholder(client.get("/").get_data(as_text=True)) == \
        "Pesquisar: nome, CNPJ/CPF, telefone, e-mail…"


def test_the_reports_entry_is_the_hosts_contribution(app, client, users):
    registry = app.extensions["erp"]
    entry = registry.get(MenuItem, "reports")
    assert registry.module_of(MenuItem, "reports") == "erp"
    assert entry.endpoint == "reports.index" and not entry.quick_link
    # The pages of the reports mark it as the current entry: their blueprints, read from
    # the Report contributions.
    assert set(entry.active_in) == {"reports", "crm_reports", "finance_reports"}
    assert registry.items(MenuItem, check_permission=False)[-1] is entry
    login_as(client, users["rep_a"])
    html = client.get("/crm/reports/funnel").get_data(as_text=True)
    assert 'href="/reports" data-menu="reports"' in html
    reports_link = html[html.rindex("<a", 0, html.index('data-menu="reports"')):]
    assert 'aria-current="page"' in reports_link.split(">")[0]
    home = client.get("/").get_data(as_text=True)
    assert 'data-quick-link="reports"' not in home  # a menu entry, not a quick link
    client = app.test_client()
    login_as(client, users["nobody"])
    assert 'data-menu="reports"' not in client.get("/").get_data(as_text=True)


def test_without_any_report_there_is_no_reports_entry(make_app, users):
    app = make_app(ERP_MODULES=[])
    assert app.extensions["erp"].items(Report) == []
    client = app.test_client()
    login_as(client, users["admin"])
    assert 'data-menu="reports"' not in client.get("/").get_data(as_text=True)


HELPERS = '''
from erp.registry import TemplateFilter, TemplateGlobal

registry.add(WebBlueprint(bp))
registry.add(TemplateFilter("shout", lambda text: text.upper() + "!"))
registry.add(TemplateGlobal("answer", 42))
'''


def test_template_filters_and_globals_are_contributions(tmp_path, make_app, app):
    registry = app.extensions["erp"]
    labels = {item.key: registry.module_of(TemplateGlobal, item.key)
              for item in registry.items(TemplateGlobal)}
    assert {"crm_labels": "crm", "sales_labels": "sales", "service_labels": "service",
            "finance_labels": "finance"}.items() <= labels.items()
    assert app.jinja_env.globals["crm_labels"].ACTION_KIND_LABELS["call"] == "Call"
    for item in registry.items(TemplateFilter):
        assert app.jinja_env.filters[item.key] is item.function
    folder = modules_folder(tmp_path)
    name = unique("helpers")
    write_module(folder, name, body=HELPERS)
    other = make_app(ERP_MODULE_DIRS=[str(folder)], ERP_MODULES=[name])
    with other.test_request_context():
        rendered = other.jinja_env.from_string("{{ 'hello'|shout }} {{ answer }}").render()
    assert rendered == "HELLO! 42"
    assert "shout" not in app.jinja_env.filters  # another app, other helpers


def test_a_kind_is_found_by_its_name_as_code_that_cannot_import_its_owner_reads_it(app):
    """erp.testing.contract reads CRM's account page kinds by name (the host never imports
    a module); a kind no enabled module declares is None."""
    registry = app.extensions["erp"]
    assert registry.kind("AccountTab") is AccountTab
    assert registry.kind("CreateAction") is CreateAction
    assert registry.kind("MenuItem") is MenuItem
    assert registry.kind("NoSuchKind") is None


def test_every_module_on_the_account_page_gives_the_contract_its_records(app):
    from erp.registry import ContractData

    registry = app.extensions["erp"]
    given = {item.key: item for item in registry.items(ContractData, check_permission=False)}
    assert {"crm", "sales", "finance", "service", "notes"} <= set(given)
    for key in given:
        assert registry.module_of(ContractData, key) == key  # keyed by its module
    # CRM, whose account page it is, also says how to read the accounts a user may see.
    assert [key for key, item in given.items() if item.accounts] == ["crm"]
