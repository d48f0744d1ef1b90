"""The import graph: who may import whom.

* The host (``erp/``) never imports a module: it finds them (erp/modules.py).
* A module imports only the host, itself and the modules in its manifest's ``depends``;
  of a dependency, only what that dependency's manifest declares ``public`` (a submodule
  and everything in it, or one name of a submodule).

Read from the source (``ast``), not from ``sys.modules``: an import inside a function or
behind ``if TYPE_CHECKING`` counts as much as one at the top of a file.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from erp.config import PROJECT_ROOT
from erp.modules import Manifest, discover, resolve


@dataclass(frozen=True)
class Package:
    """What the checker needs of a module: its import name, folder and manifest."""

    name: str  # the module's name ("crm")
    import_name: str  # its package ("modules.crm")
    path: Path
    depends: tuple[str, ...] = ()
    public: tuple[str, ...] = ()


def _module_name(path: Path, root: Path, root_import: str) -> tuple[str, bool]:
    """The dotted name of a .py file under a package folder, and whether it is a package
    (``__init__.py``), which relative imports need."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join([root_import, *parts]), is_package


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module an ``ImportFrom`` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every name a file imports, as (line, dotted name): ``import a.b`` gives ``a.b``;
    ``from a.b import c, d`` gives ``a.b.c`` and ``a.b.d`` (c may be a submodule or a name:
    both are checked the same way)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            found += [(node.lineno, f"{source}.{alias.name}" if alias.name != "*" else source)
                      for alias in node.names]
    return found


def _allowed(relative: str, public: tuple[str, ...]) -> bool:
    """Whether ``relative`` (a dotted name inside a dependency, "" for the package itself)
    is within the declared surface. ``from modules.crm import models`` gives "models";
    ``from modules.crm.services.accounts import promote_to_customer`` gives
    "services.accounts.promote_to_customer"; the entry "models" covers "models.Account"."""
    return any(relative == entry or relative.startswith(entry + ".") for entry in public)


def _owner(name: str, packages: list[Package]) -> Package | None:
    for package in packages:
        if name == package.import_name or name.startswith(package.import_name + "."):
            return package
    return None


def module_import_problems(packages: list[Package], all_modules_root: str | None = None
                           ) -> list[str]:
    """Every import of a module that its manifest does not allow, as sentences.

    ``all_modules_root`` ("modules"): an import of ``modules.<x>`` naming no known package
    is reported too (a module that is not enabled, or not there)."""
    by_name = {package.name: package for package in packages}
    problems = []
    for package in packages:
        for path in sorted(package.path.rglob("*.py")):
            module, is_package = _module_name(path, package.path, package.import_name)
            for line, name in imports_of(path, module, is_package):
                where = f"{path.relative_to(package.path.parent)}:{line}"
                target = _owner(name, packages)
                if target is None:
                    if all_modules_root and name.startswith(all_modules_root + "."):
                        problems.append(f"{where}: {package.name} imports {name}, "
                                        "which is not an enabled module")
                    continue
                if target is package:
                    continue
                if target.name not in package.depends:
                    problems.append(f"{where}: {package.name} imports {name}, but "
                                    f"{target.name} is not in its depends "
                                    f"{package.depends}")
                    continue
                relative = name[len(target.import_name) + 1:]
                if not _allowed(relative, by_name[target.name].public):
                    problems.append(f"{where}: {package.name} imports {name}, outside "
                                    f"{target.name}'s public surface {target.public}")
    return problems


def host_import_problems(host: Path, forbidden_root: str = "modules") -> list[str]:
    """Every import of ``forbidden_root`` (or anything in it) by the host's files."""
    problems = []
    for path in sorted(host.rglob("*.py")):
        module, is_package = _module_name(path, host, host.name)
        for line, name in imports_of(path, module, is_package):
            if name == forbidden_root or name.startswith(forbidden_root + "."):
                problems.append(f"{path.relative_to(host.parent)}:{line}: the host imports "
                                f"{name}")
    return problems


def enabled_packages() -> list[Package]:
    """The modules of the project's modules/ folder, as the default app enables them."""
    modules = resolve(discover(entry_points=False), None)
    return [Package(m.name, m.package.__name__, m.path, m.manifest.depends, m.manifest.public)
            for m in modules]


# --- the project's graph ------------------------------------------------------------------


def test_modules_import_only_their_dependencies_public_surface():
    packages = enabled_packages()
    assert {"crm", "sales", "finance", "service"} <= {p.name for p in packages}
    assert module_import_problems(packages, all_modules_root="modules") == []


def test_the_host_never_imports_a_module():
    assert host_import_problems(PROJECT_ROOT / "erp") == []


def test_crm_declares_its_public_surface():
    crm = next(p for p in enabled_packages() if p.name == "crm")
    assert set(crm.public) >= {"models", "services.scope",
                               "services.accounts.promote_to_customer"}


# --- the checker can fail -----------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def synthetic(tmp_path) -> tuple[Path, list[Package]]:
    """Three made-up modules under tmp/mods: base (public: models, api.lookup), user
    (depends on base) and other (depends on nothing)."""
    root = tmp_path / "mods"
    _write(root, {
        "__init__.py": "",
        "base/__init__.py": "",
        "base/models.py": "class Thing: ...\n",
        "base/secret.py": "KEY = 1\n",
        "base/api.py": "def lookup(): ...\ndef internal(): ...\n",
        "user/__init__.py": "",
        "other/__init__.py": "",
    })
    packages = [
        Package("base", "mods.base", root / "base", public=("models", "api.lookup")),
        Package("user", "mods.user", root / "user", depends=("base",)),
        Package("other", "mods.other", root / "other"),
    ]
    return root, packages


def test_a_dependency_public_surface_may_be_imported(synthetic):
    root, packages = synthetic
    _write(root, {"user/views.py": (
        "import mods.base.models\n"
        "from mods.base.models import Thing\n"
        "from mods.base import models\n"
        "from mods.base.api import lookup\n"
        "from ..base.models import Thing as Same\n"
        "from . import views\n"
        "from .views import nothing\n"
        "import erp.forms\n")})
    assert module_import_problems(packages, all_modules_root="mods") == []


@pytest.mark.parametrize("line, says", [
    ("from mods.base.secret import KEY", "outside base's public surface"),
    ("from mods.base import secret", "outside base's public surface"),
    ("from mods.base.api import internal", "outside base's public surface"),
    ("import mods.base", "outside base's public surface"),
    ("from ...base.secret import KEY", "outside base's public surface"),
    ("from mods.other import anything", "other is not in its depends"),
    ("from mods.missing import x", "not an enabled module"),
])
def test_a_bad_import_is_reported(synthetic, line, says):
    root, packages = synthetic
    _write(root, {"user/sub/deep.py": f"def later():\n    {line}\n"})
    problems = module_import_problems(packages, all_modules_root="mods")
    assert len(problems) == 1, problems
    assert "user/sub/deep.py:2" in problems[0] and says in problems[0], problems


def test_a_module_that_declares_no_public_surface_gives_nothing(synthetic):
    root, packages = synthetic
    packages = [Package("base", "mods.base", root / "base"),
                *(p for p in packages if p.name != "base")]
    _write(root, {"user/views.py": "from mods.base.models import Thing\n"})
    assert len(module_import_problems(packages)) == 1


def test_a_host_importing_a_module_is_reported(tmp_path):
    _write(tmp_path / "host", {"__init__.py": "", "views.py": "x = 1\n",
                               "sub/__init__.py": "",
                               "sub/leak.py": "import json\nfrom modules.crm import models\n"})
    problems = host_import_problems(tmp_path / "host")
    assert problems == ["host/sub/leak.py:2: the host imports modules.crm.models"]


def test_the_manifest_checks_its_public_entries():
    assert Manifest("a", "1.0", public=["models", "services.scope.account_scope"]
                    ).problems() == []
    manifest = Manifest("a", "1.0", public=["models", "", "bad..path", "1x", 3])
    assert isinstance(manifest.public, tuple)
    assert len(manifest.problems()) == 4
    assert all("public entry" in problem for problem in manifest.problems())
