"""Supply chain in CI (issue 13): `make audit` runs bandit against a reviewed baseline and
pip-audit, and .ci/run calls it after the lint step."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from erp.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / ".ci" / "audit_dependencies.py"
BANDIT = ["-r", "erp", "modules", "-c", "pyproject.toml", "--baseline", ".bandit-baseline.json",
          "--severity-level", "medium", "--quiet"]


def test_ci_runs_the_audit_after_the_lint():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "\naudit: install-test\n" in makefile
    assert "bandit " + " ".join(BANDIT[:6]) in makefile.replace("\\\n\t  ", "")
    assert ".ci/audit_dependencies.py $(VENV)/bin/pip-audit" in makefile
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert ci.index("run_make lint") < ci.index("run_make audit")
    assert "set -euo pipefail" in ci  # a failing audit fails the run


def test_the_code_has_no_new_bandit_finding():
    """The reviewed baseline is current: a new medium or high finding fails `make audit`
    (and this test), until fixed or reviewed into .bandit-baseline.json."""
    bandit = shutil.which("bandit", path=str(PROJECT_ROOT / ".venv" / "bin")) or shutil.which(
        "bandit")
    if bandit is None:
        pytest.skip("bandit is not installed (pip install -e '.[test]')")
    result = subprocess.run([bandit, *BANDIT], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    review = json.loads((PROJECT_ROOT / ".bandit-baseline.json").read_text())["review"]
    assert review["_"].startswith("Every finding below was read")


def _fake_pip_audit(tmp_path, body: str) -> str:
    fake = tmp_path / "pip-audit"
    fake.write_text(f"#!{sys.executable}\nimport sys\n" + textwrap.dedent(body))
    fake.chmod(0o755)
    return str(fake)


WRITE_REPORT = """
    out = sys.argv[sys.argv.index("--output") + 1]
    open(out, "w").write({report!r})
    sys.exit({status})
"""


def _run(fake) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), fake], capture_output=True, text=True,
                          timeout=60)


def _report(*dependencies) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_a_known_vulnerability_fails_the_audit(tmp_path):
    report = _report({"name": "flask", "version": "0.1", "vulns": [
        {"id": "PYSEC-0000-1", "fix_versions": ["3.0.0"]}]},
        {"name": "wtforms", "version": "3.1", "vulns": []})
    result = _run(_fake_pip_audit(tmp_path, WRITE_REPORT.format(report=report, status=1)))
    assert result.returncode == 1
    assert "flask 0.1: PYSEC-0000-1 (fixed in: 3.0.0)" in result.stdout
    assert "2 packages audited, 0 not, 1 with known vulnerabilities" in result.stdout


def test_a_clean_audit_passes(tmp_path):
    report = _report({"name": "flask", "version": "3.1", "vulns": []},
                     {"name": "private", "skip_reason": "Dependency not found on PyPI"})
    result = _run(_fake_pip_audit(tmp_path, WRITE_REPORT.format(report=report, status=0)))
    assert result.returncode == 0
    assert "not audited: private" in result.stdout and "1 packages audited" in result.stdout


def test_without_advisory_data_the_audit_is_skipped_and_says_so(tmp_path):
    offline = _fake_pip_audit(tmp_path, """
        sys.stderr.write("requests.exceptions.ConnectionError: Max retries exceeded\\n")
        sys.exit(1)
    """)
    result = _run(offline)
    assert result.returncode == 0 and "SKIPPED" in result.stdout and "reached" in result.stdout
    report = _report({"name": "flask", "skip_reason": "Dependency not found on PyPI"})
    mirror = _run(_fake_pip_audit(tmp_path, WRITE_REPORT.format(report=report, status=0)))
    assert mirror.returncode == 0 and "SKIPPED" in mirror.stdout
    broken = _run(_fake_pip_audit(tmp_path, "sys.stderr.write('usage: ...'); sys.exit(2)\n"))
    assert broken.returncode == 2  # any other failure is not a pass
