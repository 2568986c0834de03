"""How the tests are laid out: no module of the suite imports a test module (test_*.py) or tests/conftest.py.

What tests share lives in modules made for it: tests/factories.py (builders), tests/queries.py (reading back),
tests/environment.py, tests/browser.py, tests/accessibility.py and the areas' support modules; conftest.py
offers the common cases as fixtures. A test module imported by another ties the two together and brings the
other's helpers, fixtures and tests along.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.environment import ROOT

TESTS = ROOT / "tests"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported(source: str, module: str) -> set[str]:
    """Every module that `source`, the text of `module`, imports; `from package import name` counts as
    package.name too, and relative imports are resolved from `module`'s package."""
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def forbidden(name: str) -> bool:
    """A test module of the suite, or its conftest."""
    last = name.rsplit(".", 1)[-1]
    return name.startswith("tests.") and (last.startswith("test_") or last == "conftest")


@pytest.mark.parametrize("path", sorted(TESTS.rglob("*.py")), ids=lambda path: str(path.relative_to(TESTS)))
def test_no_module_imports_a_test_module_or_the_conftest(path: Path) -> None:
    found = imported(path.read_text(encoding="utf-8"), module_name(path))
    wrong = sorted(name for name in found if forbidden(name))
    assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}: move what they share to a shared module"


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("import tests.mail.test_delivery", "tests.mail.test_delivery"),
        ("from tests.api import test_webhooks as hooks", "tests.api.test_webhooks"),
        ("from tests.factcheck.test_tasks import setup", "tests.factcheck.test_tasks"),
        ("from tests.conftest import csrf_of", "tests.conftest"),
        ("from .test_reply import ask", "tests.applications.test_reply"),
        ("from . import test_reply", "tests.applications.test_reply"),
        ("from ..test_cli import run", "tests.test_cli"),
        ("def later():\n    from tests.test_cli import run", "tests.test_cli"),
    ],
)
def test_the_check_sees_each_way_of_importing_a_test_module(line: str, name: str) -> None:
    found = imported(line, "tests.applications.test_somewhere")
    assert name in found and forbidden(name)


def test_shared_modules_pass_the_check() -> None:
    found = imported(
        "from tests.factories import submit\nfrom tests.mail import support", "tests.review.test_x"
    )
    assert not [name for name in found if forbidden(name)]
