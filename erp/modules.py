"""Module manifests, discovery and load order.

A module is a Python package that exposes ``manifest`` (a :class:`Manifest`) and
``register(registry)``. Modules are found in two places:

* every sub-package of the project's ``modules/`` folder (and of any folder listed
  in ``ERP_MODULE_DIRS``), and
* every entry point of the ``erp.modules`` group, so ``pip install some-erp-module``
  is enough to make a module available.

The host never imports a module by name: it only walks those two places.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .config import PROJECT_ROOT

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "erp.modules"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
VERSION_RE = re.compile(r"^\d+(\.\d+){0,3}([.-]?[a-z0-9]+)*$", re.IGNORECASE)
DOTTED_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class ModuleError(RuntimeError):
    """A module cannot be loaded; the message names the module and the problem."""

    def __init__(self, module: str, problem: str):
        super().__init__(f"module {module!r}: {problem}")
        self.module = module
        self.problem = problem


@dataclass(frozen=True)
class Manifest:
    """What a module says about itself."""

    name: str
    version: str
    summary: str = ""
    depends: tuple[str, ...] = ()
    # What a module that depends on this one may import from it, relative to its package:
    # a submodule ("models", "services.scope": it and everything in it) or one name in a
    # submodule ("services.accounts.promote_to_customer"). Empty: nothing.
    public: tuple[str, ...] = ()

    def __post_init__(self):
        # Accept lists for depends and public, but keep the manifest immutable.
        object.__setattr__(self, "depends", tuple(self.depends))
        object.__setattr__(self, "public", tuple(self.public))

    def problems(self) -> list[str]:
        """Everything wrong with this manifest, as sentences (empty when valid)."""
        found = []
        if not isinstance(self.name, str) or not NAME_RE.match(self.name):
            found.append(
                f"invalid name {self.name!r} (lower-case letters, digits and _, "
                "starting with a letter)"
            )
        if not isinstance(self.version, str) or not VERSION_RE.match(self.version):
            found.append(f"invalid version {self.version!r} (expected e.g. '1.0.0')")
        if not isinstance(self.summary, str):
            found.append("summary must be text")
        for dep in self.depends:
            if not isinstance(dep, str) or not NAME_RE.match(dep):
                found.append(f"invalid dependency name {dep!r}")
        if self.name in self.depends:
            found.append("a module cannot depend on itself")
        for entry in self.public:
            if not isinstance(entry, str) or not DOTTED_RE.match(entry):
                found.append(f"invalid public entry {entry!r} (a dotted path inside the "
                             "module, e.g. 'models' or 'services.scope.account_scope')")
        return found


@dataclass
class LoadedModule:
    """A discovered module: its manifest, its package and where it came from."""

    manifest: Manifest
    package: ModuleType
    origin: str  # "folder:<path>" or "entry point:<dist>"
    depth: int = 0
    extras: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def path(self) -> Path:
        return Path(self.package.__file__).parent

    @property
    def migrations_dir(self) -> Path | None:
        folder = self.path / "migrations"
        return folder if folder.is_dir() else None

    @property
    def translations_dir(self) -> Path | None:
        folder = self.path / "translations"
        return folder if folder.is_dir() else None


def _check_package(package: ModuleType, label: str) -> Manifest:
    manifest = getattr(package, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise ModuleError(label, "has no 'manifest' of type erp.modules.Manifest")
    problems = manifest.problems()
    if problems:
        raise ModuleError(manifest.name if isinstance(manifest.name, str) else label,
                          "invalid manifest: " + "; ".join(problems))
    if not callable(getattr(package, "register", None)):
        raise ModuleError(manifest.name, "has no register(registry) function")
    return manifest


def _import(import_name: str, label: str) -> ModuleType:
    try:
        return importlib.import_module(import_name)
    except Exception as exc:  # the module's own code failed: say which module
        raise ModuleError(label, f"cannot be imported: {exc!r}") from exc


def _folder_candidates(folder: Path) -> Iterable[tuple[str, str]]:
    """(import name, origin) of every package in a modules folder.

    The folder itself must be importable as a package named after it: its parent
    is put on ``sys.path`` if needed (as Odoo does with its addons path).
    """
    folder = folder.resolve()
    if not folder.is_dir():
        raise ModuleError(folder.name, f"modules folder {folder} does not exist")
    parent = str(folder.parent)
    if parent not in sys.path:
        sys.path.append(parent)
    for child in sorted(folder.iterdir()):
        if child.is_dir() and (child / "__init__.py").exists() and not child.name.startswith("_"):
            yield f"{folder.name}.{child.name}", f"folder:{child}"


def discover(extra_dirs: Iterable[str | Path] = (), entry_points: bool = True,
             default_dir: Path | None = PROJECT_ROOT / "modules") -> dict[str, LoadedModule]:
    """Every available module by name. Two different packages with one name is an error."""
    found: dict[str, LoadedModule] = {}

    def add(import_name: str, origin: str, package: ModuleType | None = None):
        package = package or _import(import_name, import_name.rsplit(".", 1)[-1])
        manifest = _check_package(package, import_name)
        existing = found.get(manifest.name)
        if existing is not None:
            if existing.package is package:
                return  # the same package, seen through the folder and an entry point
            raise ModuleError(
                manifest.name,
                f"duplicate module name: found in {existing.origin} and in {origin}",
            )
        found[manifest.name] = LoadedModule(manifest, package, origin)

    dirs = [Path(d) for d in extra_dirs]
    if default_dir is not None and default_dir.is_dir():
        dirs.insert(0, default_dir)
    for folder in dirs:
        for import_name, origin in _folder_candidates(folder):
            add(import_name, origin)
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else "?"
            try:
                package = ep.load()
            except Exception as exc:
                raise ModuleError(ep.name, f"entry point cannot be loaded: {exc!r}") from exc
            if not isinstance(package, ModuleType):
                raise ModuleError(ep.name, "entry point must name a package, not an object")
            add(package.__name__, f"entry point:{dist}", package)
    return found


def is_enabled(name: str) -> bool:
    """True inside an app context of an app where module ``name`` is enabled.

    Signals are process-wide (blinker): a receiver that must act only where its module is
    enabled asks this first.
    """
    from flask import current_app, has_app_context

    if not has_app_context():
        return False
    registry = current_app.extensions.get("erp")
    return registry is not None and name in registry.modules


def resolve(available: dict[str, LoadedModule],
            enabled: Iterable[str] | None) -> list[LoadedModule]:
    """The enabled modules in load order: by dependency depth, then by name.

    Raises :class:`ModuleError` for an unknown enabled name, a dependency that is
    not enabled, or a dependency cycle.
    """
    if enabled is None:
        names = set(available)
    else:
        names = set()
        for name in enabled:
            if name not in available:
                raise ModuleError(name, "is enabled in ERP_MODULES but was not found")
            names.add(name)
    for name in sorted(names):
        for dep in available[name].manifest.depends:
            if dep not in available:
                raise ModuleError(name, f"depends on {dep!r}, which is not installed")
            if dep not in names:
                raise ModuleError(name, f"depends on {dep!r}, which is not enabled")

    depth: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            cycle = " -> ".join(path[path.index(name):] + (name,))
            raise ModuleError(name, f"dependency cycle: {cycle}")
        if name not in depth:
            deps = available[name].manifest.depends
            depth[name] = 1 + max((visit(d, path + (name,)) for d in deps), default=-1)
        return depth[name]

    for name in sorted(names):
        visit(name, ())
    ordered = sorted(names, key=lambda n: (depth[n], n))
    result = []
    for name in ordered:
        module = available[name]
        module.depth = depth[name]
        result.append(module)
    return result


def names_setting(value) -> list[str] | None:
    """``ERP_MODULES`` as a list of names: ``None`` stays ``None`` (every discovered module);
    text is comma-separated (``"crm,sales"``, as in the environment), not read letter by
    letter."""
    if value is None:
        return None
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item).strip() for item in value if str(item).strip()]


def closure(available: dict[str, LoadedModule], name: str) -> list[str]:
    """``name`` and every module it depends on, directly or not (unknown names skipped)."""
    seen: list[str] = []

    def visit(current: str) -> None:
        if current in seen or current not in available:
            return
        seen.append(current)
        for dep in available[current].manifest.depends:
            visit(dep)

    visit(name)
    return seen


def dependants(available: dict[str, LoadedModule], name: str) -> list[str]:
    """The modules that depend on ``name``, directly or not, by name."""
    return sorted(other for other in available
                  if other != name and name in closure(available, other))


# --- modules switched off with `flask --app erp module disable` -----------------------------


def disabled_file(config) -> Path | None:
    """Where the disabled modules are kept (``ERP_DISABLED_MODULES_FILE``; None: nowhere)."""
    value = config.get("ERP_DISABLED_MODULES_FILE")
    return Path(value) if value else None


def read_disabled(config) -> set[str]:
    """The names the operator disabled: one a line, ``#`` starts a comment."""
    path = disabled_file(config)
    if path is None or not path.is_file():
        return set()
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line)
    return names


def write_disabled(config, names: Iterable[str]) -> None:
    path = disabled_file(config)
    if path is None:
        raise ModuleError("?", "ERP_DISABLED_MODULES_FILE is not set: nowhere to keep "
                               "which modules are disabled")
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Modules disabled with `flask --app erp module disable NAME` (one a line).",
             *sorted(set(names))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def enabled_names(config, available: dict[str, LoadedModule]) -> list[str] | None:
    """The modules to load: ``ERP_MODULES`` when set; else every discovered module but
    those disabled (``ERP_DISABLED_MODULES_FILE``); ``None``: every discovered module."""
    explicit = names_setting(config.get("ERP_MODULES"))
    if explicit is not None:
        return explicit
    disabled = read_disabled(config)
    if not disabled:
        return None
    return [name for name in available if name not in disabled]
