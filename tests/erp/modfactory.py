"""Write real module packages to a temporary folder (or expose them as entry points)."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

TEMPLATE = '''
from flask import Blueprint

from erp.modules import Manifest
from erp.registry import MenuItem, WebBlueprint

manifest = Manifest(name={name!r}, version={version!r}, summary="Test module",
                    depends={depends!r})

bp = Blueprint({name!r}, __name__, url_prefix="/{name}")


@bp.route("/")
def index():
    return "{name} page"


def register(registry):
{body}
'''

DEFAULT_BODY = '''
    registry.add(WebBlueprint(bp))
    registry.add(MenuItem({name!r}, {name!r}.title(), {name!r} + ".index"))
'''
# A module that depends on CRM also adds a tab to its account page (a kind CRM declares).
CRM_BODY = '''
    from modules.crm.kinds import AccountTab

    registry.add(AccountTab({name!r}, {name!r}.title(), render=lambda a, args: "tab"))
'''


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def write_module(folder: Path, package: str, name: str | None = None, depends=(),
                 version: str = "1.0.0", body: str | None = None,
                 source: str | None = None) -> Path:
    """A module package ``folder/package`` whose manifest is named ``name``."""
    name = name or package
    pkg = folder / package
    pkg.mkdir(parents=True)
    if source is None:
        if body is None:
            body = DEFAULT_BODY.format(name=name)
            if "crm" in depends:
                body += CRM_BODY.format(name=name)
        source = TEMPLATE.format(name=name, version=version, depends=tuple(depends),
                                 body=textwrap.indent(textwrap.dedent(body).strip(), "    "))
    (pkg / "__init__.py").write_text(source)
    return pkg


def modules_folder(tmp_path: Path) -> Path:
    """An importable folder of modules with a unique package name."""
    folder = tmp_path / unique("extmods")
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    return folder


def write_entry_point_dist(site: Path, dist: str, entries: dict[str, str]) -> None:
    """A minimal installed distribution declaring ``erp.modules`` entry points."""
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entries.items())
    (info / "entry_points.txt").write_text(f"[erp.modules]\n{lines}\n")
