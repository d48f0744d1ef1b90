#!/usr/bin/env python3
"""pip-audit of the installed packages (`make audit`): fails on any known vulnerability,
and says so plainly, exit 0, when there is no advisory data to check against.

"No advisory data" is either no network (pip-audit cannot connect) or an index that
answers but knows none of our packages (a mirror without PyPI's per-release JSON: pip-audit
then skips every package and still prints "No known vulnerabilities found", which would
be a green light for nothing). Packages it could not check are listed, so a partial
audit is visible too.

Usage: python .ci/audit_dependencies.py [path/to/pip-audit]
"""

from __future__ import annotations

import json
import subprocess  # noqa: S404 - runs pip-audit, a fixed command
import sys
import tempfile
from pathlib import Path

NETWORK_ERRORS = ("ConnectionError", "ProxyError", "ConnectTimeout", "ReadTimeout",
                  "NameResolutionError", "Max retries exceeded", "ServiceError")


def main() -> int:
    pip_audit = sys.argv[1] if len(sys.argv) > 1 else "pip-audit"
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [pip_audit, "--skip-editable", "--progress-spinner", "off", "--format", "json",
             "--output", str(report)], capture_output=True, text=True, check=False)
        if not report.exists():
            if any(marker in result.stderr for marker in NETWORK_ERRORS):
                print("pip-audit: SKIPPED, the vulnerability service (pypi.org) cannot be "
                      "reached (offline?). Run `make audit` again with network access.")
                return 0
            sys.stderr.write(result.stderr)
            print(f"pip-audit failed (exit {result.returncode}) without a report.")
            return result.returncode or 1
        dependencies = json.loads(report.read_text())["dependencies"]
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not audited:
        print(f"pip-audit: SKIPPED, the package index answered but has no release data for "
              f"any of the {len(skipped)} installed packages (a mirror without advisory "
              "data?): nothing could be checked.")
        return 0
    vulnerable = [d for d in audited if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} "
                  f"(fixed in: {fixes})")
    for dependency in skipped:
        print(f"not audited: {dependency['name']}: {dependency['skip_reason']}")
    print(f"pip-audit: {len(audited)} packages audited, {len(skipped)} not, "
          f"{len(vulnerable)} with known vulnerabilities.")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
