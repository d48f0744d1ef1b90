"""Build hook: compile the message catalogs (.po) into the .mo files Flask-Babel reads.

The .mo files are built, never committed. With this hook ``python -m build`` and
``pip install .`` give complete wheels on their own, and an editable install
(``pip install -e .``, as ``make`` does) gets them next to the .po files.
Everything else — metadata, packages, package data — is in setup.cfg.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = "translations/*/LC_MESSAGES/*.po"


def compile_catalog(po_file: Path, mo_file: Path) -> bool:
    """Write ``mo_file`` from ``po_file`` as ``pybabel compile`` does (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_file.open("rb") as fh:
        catalog = read_po(fh, locale=po_file.parent.parent.name, domain=po_file.stem)
    if catalog.fuzzy:  # the whole catalog is marked fuzzy: pybabel skips it too
        return False
    mo_file.parent.mkdir(parents=True, exist_ok=True)
    with mo_file.open("wb") as fh:
        write_mo(fh, catalog, use_fuzzy=False)
    return True


class build_py_with_catalogs(build_py):
    """``build_py``, then every package's ``translations/<locale>/LC_MESSAGES/*.mo``."""

    def _catalog_files(self) -> list[tuple[Path, Path]]:
        pairs = []
        for package in self.packages or ():
            source = Path(self.get_package_dir(package))
            target = Path(self.build_lib, *package.split("."))
            for po_file in sorted(source.glob(CATALOGS)):
                relative = po_file.relative_to(source).with_suffix(".mo")
                # Editable install: the package is the source folder, so the .mo goes there.
                pairs.append((po_file, (source if self.editable_mode else target) / relative))
        return pairs

    def run(self) -> None:
        super().run()
        for po_file, mo_file in self._catalog_files():
            if compile_catalog(po_file, mo_file):
                self.announce(f"compiled {po_file} -> {mo_file}", level=2)
            else:
                self.announce(f"{po_file} is marked fuzzy: not compiled", level=3)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return outputs + [str(mo_file) for _po_file, mo_file in self._catalog_files()]


setup(cmdclass={"build_py": build_py_with_catalogs})
