"""The house keeps its shape (docs/architecture.md): imports run one way,
no cycles (import-linter's contracts in pyproject.toml), and no import of the
project's own code hides inside a function to dodge a cycle."""

from __future__ import annotations

import ast
import subprocess

from tests.servers import BIN, ROOT

PACKAGES = ("chatserver", "consumers", "carriers")
# Django asks that signal handlers be connected in AppConfig.ready, once the
# models are loaded: the one import a function may make.
ALLOWED_INNER = {("chatserver/apps.py", "chatserver.actions")}


def test_the_import_contracts_hold():
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_no_import_of_our_own_code_hides_inside_a_function():
    hidden = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if "/migrations/" in relative:
                continue
            tree = ast.parse(path.read_text())
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.module:
                        module = node.module
                    elif isinstance(node, ast.Import):
                        module = node.names[0].name
                    else:
                        continue
                    if module.split(".")[0] in PACKAGES and (
                        (relative, module) not in ALLOWED_INNER
                    ):
                        hidden.append(f"{relative}:{node.lineno} imports {module}")
    assert hidden == []
