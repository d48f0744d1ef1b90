"""The module shape of docs/modules.md ("The module shape"), checked on every module of the
project's modules/ folder and on the Notes example:

* the top-level names are the fixed roles (a file, or a package of the same name); any other
  file says what role it has in its docstring;
* no file passes the size at which it becomes a package by entity;
* Flask-Admin view classes live in admin.py, never among the views;
* Jinja helpers come through the registry (TemplateFilter/TemplateGlobal), never installed
  app-wide from a blueprint;
* one register(), in __init__.py: no sub-register() hiding contributions;
* no function of the rules (services/) over 60 lines: a clean_* routine is a list of fields
  on erp.validation, its rule groups in small named functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from erp.config import PROJECT_ROOT
from erp.modules import discover, resolve

ROLES = {
    "__init__", "permissions", "models", "services", "views", "forms", "api", "account_page",
    "search", "admin", "labels", "signals", "demo", "dashboard", "reports", "importers",
    "templates", "static", "migrations", "translations",
}
MAX_LINES = 400  # "a file that passes ~400 lines becomes a package by entity"
MAX_SERVICE_FUNCTION = 60
APP_WIDE_JINJA = ("app_template_filter", "app_template_global", "app_template_test",
                  "app_context_processor", "add_app_template_filter",
                  "add_app_template_global")
NOTES = PROJECT_ROOT / "examples" / "notes" / "mosaic_notes"


def module_folders() -> list[Path]:
    return [m.path for m in resolve(discover(entry_points=False), None)] + [NOTES]


def python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py")
                  if "migrations" not in path.relative_to(folder).parts)


def shape_problems(folder: Path) -> list[str]:
    """Everything in ``folder`` (one module) that breaks the shape, as sentences."""
    problems = []
    for entry in sorted(folder.iterdir()):
        name = entry.stem if entry.suffix == ".py" else entry.name
        if entry.name.startswith((".", "__pycache__")) or entry.suffix not in ("", ".py"):
            continue
        if name not in ROLES and not (entry.suffix == ".py" and ast.get_docstring(
                ast.parse(entry.read_text(encoding="utf-8")))):
            problems.append(f"{entry.name}: not one of the module roles, and no docstring "
                            "saying which role it has")
    for path in python_files(folder):
        source = path.read_text(encoding="utf-8")
        relative = path.relative_to(folder)
        lines = source.count("\n") + 1
        if lines > MAX_LINES:
            problems.append(f"{relative}: {lines} lines (make it a package by entity)")
        tree = ast.parse(source)
        if relative.parts[0] != "admin.py" and relative.parts[0] != "admin":
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                        "ModelView" in ast.unparse(base) for base in node.bases):
                    problems.append(f"{relative}: admin view {node.name} outside admin.py")
        for helper in APP_WIDE_JINJA:
            if f".{helper}" in source:
                problems.append(f"{relative}: installs a Jinja helper app-wide ({helper}); "
                                "contribute a TemplateFilter/TemplateGlobal instead")
        if relative.parts[0] in ("services", "services.py"):
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                        node.end_lineno - node.lineno + 1 > MAX_SERVICE_FUNCTION:
                    problems.append(f"{relative}: {node.name}() has "
                                    f"{node.end_lineno - node.lineno + 1} lines")
        register = [n for n in ast.walk(tree)
                    if isinstance(n, ast.FunctionDef) and n.name == "register"]
        if register and relative != Path("__init__.py"):
            problems.append(f"{relative}: a register() outside __init__.py")
    return problems


@pytest.mark.parametrize("folder", module_folders(), ids=lambda folder: folder.name)
def test_module_follows_the_shape(folder):
    assert shape_problems(folder) == []


def test_the_checker_finds_a_module_out_of_shape(tmp_path):
    module = tmp_path / "bad"
    (module / "views").mkdir(parents=True)
    (module / "__init__.py").write_text("def register(registry): ...\n")
    (module / "helpers.py").write_text("def anything(): ...\n")
    (module / "utils.py").write_text('"""Spreadsheet helpers of the importers."""\n')
    (module / "services.py").write_text("def clean_thing(data):\n" + "    pass\n" * 60)
    (module / "views" / "__init__.py").write_text(
        "class QuoteAdmin(SecureModelView):\n    pass\n"
        "@bp.app_template_filter('x')\ndef x(v): return v\n"
        "def register(registry): ...\n" + "# padding\n" * MAX_LINES)
    problems = shape_problems(module)
    assert problems == [
        "helpers.py: not one of the module roles, and no docstring saying which role it has",
        "services.py: clean_thing() has 61 lines",
        f"views/__init__.py: {MAX_LINES + 6} lines (make it a package by entity)",
        "views/__init__.py: admin view QuoteAdmin outside admin.py",
        "views/__init__.py: installs a Jinja helper app-wide (app_template_filter); "
        "contribute a TemplateFilter/TemplateGlobal instead",
        "views/__init__.py: a register() outside __init__.py",
    ]
