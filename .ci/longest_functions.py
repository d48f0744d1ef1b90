"""The longest functions of the host and the modules (migrations left out), longest first.

    python .ci/longest_functions.py [N]      # N rows, 10 by default

Used to measure refactorings (issue 14's closing note); the rule it watches — no function of
a module's services/ over 60 lines — is enforced by tests/erp/test_module_shape.py.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def functions(root: Path = ROOT) -> list[tuple[int, str]]:
    rows = []
    for path in sorted([*root.glob("erp/**/*.py"), *root.glob("modules/**/*.py")]):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                rows.append((length, f"{path.relative_to(root)}:{node.lineno} {node.name}"))
    return sorted(rows, reverse=True)


if __name__ == "__main__":
    for length, where in functions()[: int(sys.argv[1]) if len(sys.argv) > 1 else 10]:
        print(length, where)
