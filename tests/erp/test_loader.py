"""Module discovery, load order and start-up errors (erp/modules.py, erp/loader.py)."""

from __future__ import annotations

import pytest

from erp.modules import Manifest, ModuleError, resolve
from erp.registry import MenuItem
from modules.crm.kinds import AccountTab
from tests.conftest import login_as

from .modfactory import modules_folder, unique, write_entry_point_dist, write_module


def test_shipped_modules_load_in_dependency_then_name_order(app):
    names = [m.name for m in app.extensions["erp_modules"]]
    shipped = {"crm", "finance", "sales", "service"}  # the suite also loads tests' "notes"
    assert [n for n in names if n in shipped] == ["crm", "finance", "sales", "service"]
    depths = {m.name: m.depth for m in app.extensions["erp_modules"]}
    assert depths == {**depths, "crm": 0, "sales": 1, "finance": 1, "service": 1}


def _fake(name, depends=()):
    from types import ModuleType

    from erp.modules import LoadedModule

    return LoadedModule(Manifest(name, "1.0", depends=depends), ModuleType(name), "test")


def test_order_is_depth_then_name_and_independent_of_discovery_order():
    mods = [_fake("zeta"), _fake("alpha", ("zeta",)), _fake("beta", ("alpha", "zeta")),
            _fake("aardvark")]
    for ordering in (mods, list(reversed(mods))):
        available = {m.name: m for m in ordering}
        assert [m.name for m in resolve(available, None)] == ["aardvark", "zeta", "alpha", "beta"]


def test_module_in_a_folder_appears_and_disappears_when_disabled(tmp_path, make_app, users):
    folder = modules_folder(tmp_path)
    name = unique("acme")
    write_module(folder, name, depends=("crm",))

    app = make_app(ERP_MODULE_DIRS=[str(folder)])
    registry = app.extensions["erp"]
    assert name in [m.name for m in app.extensions["erp_modules"]]
    tabs = registry.items(AccountTab, None, check_permission=False)
    assert [t.key for t in tabs if registry.module_of(AccountTab, t.key) == name] == [name]
    client = app.test_client()
    login_as(client, users["rep_a"])
    home = client.get("/").get_data(as_text=True)
    assert f'data-menu="{name}"' in home
    assert client.get(f"/{name}/").status_code == 200

    app = make_app(ERP_MODULE_DIRS=[str(folder)], ERP_MODULES=["crm", "sales"])
    assert name not in [m.name for m in app.extensions["erp_modules"]]
    assert app.extensions["erp"].get(AccountTab, name) is None
    client = app.test_client()
    login_as(client, users["rep_a"])
    assert f'data-menu="{name}"' not in client.get("/").get_data(as_text=True)
    assert client.get(f"/{name}/").status_code == 404


def test_module_exposed_through_an_entry_point_is_loaded(tmp_path, monkeypatch, make_app):
    site = tmp_path / "site"
    package = unique("pipmod")
    write_module(site, package)
    write_entry_point_dist(site, unique("dist"), {package: package})
    monkeypatch.syspath_prepend(str(site))

    app = make_app()
    loaded = {m.name: m for m in app.extensions["erp_modules"]}
    assert package in loaded
    assert loaded[package].origin.startswith("entry point:")
    assert app.extensions["erp"].get(MenuItem, package) is not None

    app = make_app(ERP_DISCOVER_ENTRY_POINTS=False)
    assert package not in {m.name for m in app.extensions["erp_modules"]}


def test_same_package_seen_in_folder_and_entry_point_is_one_module(app):
    # setup.cfg declares the four shipped modules as entry points too.
    origins = {m.name: m.origin for m in app.extensions["erp_modules"]}
    assert origins["crm"].startswith("folder:")


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ({"a": {"depends": ("ghost",)}}, "depends on 'ghost', which is not installed"),
        ({"a": {"depends": ("b",)}, "b": {"depends": ("a",)}}, "dependency cycle"),
        ({"a": {"version": "not a version!"}}, "invalid manifest"),
        ({"a": {"body": "raise ValueError('boom')"}}, "register() failed: ValueError('boom')"),
        ({"a": {"body": "registry.add(MenuItem(None, 'A', 'home'))"}},
         "menu item contribution needs a non-empty"),
        ({"a": {"body": "from modules.crm.kinds import AccountTab\n"
                        "registry.add(AccountTab('a', 'A', render=str))"}},
         "AccountTab is not a declared kind of contribution"),
    ],
    ids=["missing-dependency", "cycle", "invalid-manifest", "register-raises", "bad-contribution",
         "undeclared-kind"],
)
def test_startup_errors_name_the_module(tmp_path, make_app, modules, message):
    folder = modules_folder(tmp_path)
    names = {key: unique(key) for key in modules}
    for key, spec in modules.items():
        depends = tuple(names.get(d, d) for d in spec.get("depends", ()))
        write_module(folder, names[key], depends=depends, version=spec.get("version", "1.0"),
                     body=spec.get("body"))
    with pytest.raises(ModuleError) as error:
        make_app(ERP_MODULE_DIRS=[str(folder)])
    assert message in str(error.value)
    assert error.value.module in names.values()
    assert f"module {error.value.module!r}" in str(error.value)


def test_duplicate_module_name_is_refused(tmp_path, make_app):
    folder = modules_folder(tmp_path)
    name = unique("twin")
    write_module(folder, name + "_one", name=name)
    write_module(folder, name + "_two", name=name)
    with pytest.raises(ModuleError, match="duplicate module name") as error:
        make_app(ERP_MODULE_DIRS=[str(folder)])
    assert error.value.module == name


def test_package_without_manifest_is_refused(tmp_path, make_app):
    folder = modules_folder(tmp_path)
    package = unique("bare")
    write_module(folder, package, source="def register(registry):\n    pass\n")
    with pytest.raises(ModuleError, match="has no 'manifest'") as error:
        make_app(ERP_MODULE_DIRS=[str(folder)])
    assert error.value.module.endswith(package)


def test_enabled_module_must_exist_and_have_its_dependencies_enabled(make_app):
    with pytest.raises(ModuleError, match="'nosuch': is enabled in ERP_MODULES but was not found"):
        make_app(ERP_MODULES=["crm", "nosuch"])
    with pytest.raises(ModuleError, match="'sales': depends on 'crm', which is not enabled"):
        make_app(ERP_MODULES=["sales"])


def test_host_works_with_zero_modules(make_app, users):
    app = make_app(ERP_MODULES=[])
    assert app.extensions["erp_modules"] == []
    client = app.test_client()
    login_as(client, users["admin"])
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        (Manifest("Bad-Name", "1.0"), "invalid name"),
        (Manifest("ok", ""), "invalid version"),
        (Manifest("ok", "1.0", depends=("ok",)), "cannot depend on itself"),
        (Manifest("ok", "1.0", depends=("No Way",)), "invalid dependency name"),
    ],
)
def test_manifest_problems(manifest, problem):
    assert any(problem in p for p in manifest.problems())


def test_valid_manifest_has_no_problems():
    assert Manifest("crm_extra", "2.1.0rc1", "Summary", ["crm"]).problems() == []
