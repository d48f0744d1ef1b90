"""The built wheel is complete: installed outside the checkout, it sets up and serves.

``python -m build`` makes the sdist, then the wheel from the sdist (so the sdist must
carry everything the wheel needs). The wheel goes into a fresh venv outside the
checkout; its dependencies come from this interpreter's site-packages through a
``.pth`` line (offline, and fast). A ``.pth`` line does not run the ``.pth`` files
of the folder it adds, so the checkout's editable install stays out: the test checks
that ``erp`` is imported from the new venv.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests

# The wheel is built, installed and served on SQLite whatever the suite's database: the
# PostgreSQL pass (.ci/run) would only repeat it.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    bool(os.environ.get("ERP_TEST_DATABASE_URL")),
    reason="the packaging check runs on SQLite only, in the SQLite pass")]

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything pointing at the checkout or at another database."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ERP_", "PYTHON", "FLASK_", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        cwd=out, env=_clean_env(), capture_output=True, text=True, timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return wheels[0], output


def test_the_build_prints_no_warning(build):
    _wheel, output = build
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    assert not warnings, "\n".join(warnings)


def _tracked_package_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "erp", "modules"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [path for path in listed if (ROOT / path).is_file()]


def test_the_wheel_holds_every_file_the_app_reads(build):
    wheel, _output = build
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("erp/templates/base.html", "erp/templates/erp/login.html",
                 "erp/static/erp.js", "erp/imports/static/imports.js",
                 "modules/crm/static/crm.js", "modules/sales/templates/sales/quote_mail.txt",
                 "erp/migrations/env.py", "erp/migrations/alembic.ini",
                 "erp/migrations/script.py.mako", "erp/migrations/versions/0001_host.py",
                 "modules/crm/migrations/0001_crm.py"):
        assert path in names
    # Every committed file of the packages, except the catalogs' sources (compiled instead).
    missing = [path for path in _tracked_package_files()
               if not path.endswith((".po", ".pot")) and path not in names]
    assert not missing, f"not in the wheel (setup.cfg [options.package_data]): {missing}"
    catalogs = [path for path in _tracked_package_files() if path.endswith(".po")]
    assert catalogs
    for po_file in catalogs:
        assert po_file[:-3] + ".mo" in names, f"{po_file} not compiled into the wheel"
    assert not [name for name in names if name.startswith("tests/") or "__pycache__" in name]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def installed(build, tmp_path_factory):
    """A venv outside the checkout with the wheel (and only the wheel) of this project."""
    wheel, _output = build
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", "--no-index", str(wheel)],
                   env=_clean_env(), check=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    # The test venv's dependencies, but not its editable installs of this project or of
    # the Notes example: their metadata would be seen (Notes' entry point) and their code
    # not (an editable install's finder is only run from a site directory's own .pth).
    dependencies = tmp_path_factory.mktemp("dependencies")
    for folder in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for entry in Path(folder).iterdir():
            if not entry.name.lstrip("_").startswith(("editable", "mosaic_")) and not (
                    dependencies / entry.name).exists():
                (dependencies / entry.name).symlink_to(entry)
    (Path(site.stdout.strip()) / "zz_test_dependencies.pth").write_text(f"{dependencies}\n")
    return python


def test_the_installed_wheel_sets_up_and_serves(installed, tmp_path):
    python = installed
    env = _clean_env(ERP_DATABASE_URL=f"sqlite:///{tmp_path / 'erp.sqlite3'}")
    where = subprocess.run(
        [str(python), "-c", "import erp, modules; print(erp.__file__); print(modules.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    venv = python.parent.parent
    assert all(Path(path).is_relative_to(venv) for path in where), where

    setup = subprocess.run([str(python), "-m", "flask", "--app", "erp", "setup"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=300)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "Demo data loaded" in setup.stdout
    # An installed package's instance folder (the README says where): <venv>/var/erp-instance.
    assert (venv / "var" / "erp-instance" / "secret_key").is_file()
    backup = subprocess.run([str(python), "-m", "flask", "--app", "erp", "backup",
                             str(tmp_path / "backup.sqlite3")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert backup.returncode == 0, backup.stdout + backup.stderr

    port = _free_port()
    server = subprocess.Popen(  # serve: gunicorn and the worker, in their own process group
        [str(python), "-m", "flask", "--app", "erp", "serve", "--port", str(port),
         "--workers", "1"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        session = requests.Session()
        session.headers["Accept-Language"] = "pt-BR"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                # gunicorn listens before its workers have built the app: on a busy
                # machine the first answer takes a while.
                page = session.get(f"{base}/auth/login", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.3)
        assert page.status_code == 200
        assert "Entrar" in page.text  # the pt-BR catalog, compiled into the wheel
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token, page.text
        home = session.post(f"{base}/auth/login", data={
            "csrf_token": token.group(1), "login": "admin", "password": "demo1234"})
        assert home.status_code == 200 and "/auth/login" not in home.url
        # A module's template and its static file.
        accounts = session.get(f"{base}/crm/accounts")
        assert accounts.status_code == 200
        assert session.get(f"{base}/crm/static/crm.js").status_code == 200
        assert session.get(f"{base}/imports/static/imports.js").status_code == 200
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)  # serve stops gunicorn and the worker
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        if server.stdout:
            server.stdout.close()
