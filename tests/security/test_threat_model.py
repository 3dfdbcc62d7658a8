"""docs/security.md names a test for every threat, and every test it names
exists: the threat model cannot drift from what is proven."""

from __future__ import annotations

import ast
import re

from tests.servers import ROOT

DOC = ROOT / "docs" / "security.md"
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def threat_rows() -> list[str]:
    """The rows of the threats table (those that start with a number)."""
    return [
        line
        for line in DOC.read_text().splitlines()
        if re.match(r"\|\s*\d+\s*\|", line)
    ]


def functions_in(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_threat_names_at_least_one_test():
    rows = threat_rows()
    assert len(rows) >= 10
    for row in rows:
        assert TEST_REFERENCE.search(row), f"no test named for: {row[:80]}"


def test_every_test_the_threat_model_names_exists():
    missing = []
    for path, name in TEST_REFERENCE.findall(DOC.read_text()):
        if not (ROOT / path).is_file() or name not in functions_in(path):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_security_test_is_named_in_the_threat_model():
    """And the other way round: a security test that proves no named threat
    is either missing from the page or not about security."""
    named = set(TEST_REFERENCE.findall(DOC.read_text()))
    unnamed = []
    for path in sorted((ROOT / "tests" / "security").glob("test_*.py")):
        relative = str(path.relative_to(ROOT))
        if path.name == "test_threat_model.py":
            continue
        for name in functions_in(relative):
            if name.startswith("test_") and (relative, name) not in named:
                unnamed.append(f"{relative}::{name}")
    assert unnamed == []
