"""The house rules of docs/architecture.md, checked: import contracts, no import cycles, docs
whose links lead somewhere.

The contracts themselves are in pyproject.toml (``[tool.importlinter]``); ``lint-imports`` is the
tool that reads them. The cycle check is ours because import-linter checks layers and siblings,
not "no cycle anywhere": it finds the strongly connected components of the module graph that
grimp (import-linter's engine) builds, with scipy's graph routines.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "core", "labeling", "consistency", "demo")


def _import_cycles(packages: tuple[str, ...]) -> list[list[str]]:
    """Every set of project modules that import each other in a circle (function-local imports
    included: grimp reads every import statement; ``if TYPE_CHECKING:`` imports excluded)."""
    graph = grimp.build_graph(*packages, cache_dir=None, exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    index = {name: i for i, name in enumerate(modules)}
    rows, cols = [], []
    for name in modules:
        for imported in graph.find_modules_directly_imported_by(name):
            rows.append(index[name])
            cols.append(index[imported])
    matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(modules), len(modules)))
    _, labels = connected_components(matrix, directed=True, connection="strong")
    groups: dict[int, list[str]] = {}
    for name, label in zip(modules, labels, strict=True):
        groups.setdefault(int(label), []).append(name)
    return sorted(group for group in groups.values() if len(group) > 1)


def test_no_import_cycle_inside_the_project():
    cycles = _import_cycles(PACKAGES)
    assert cycles == [], "modules that import each other in a circle:\n" + "\n".join(map(str, cycles))


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "circle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle import b\n")
    # A function-local import closes the circle too: it is an import all the same.
    (package / "b.py").write_text("def f():\n    from circle import a\n    return a\n")
    (package / "c.py").write_text("from circle import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _import_cycles(("circle",)) == [["circle.a", "circle.b"]]


def test_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", result.stdout)
    assert kept is not None and int(kept.group(1)) >= 6 and kept.group(2) == "0", result.stdout


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize(
    "document", sorted(p.relative_to(ROOT).as_posix() for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")])
)
def test_relative_links_in_the_docs_lead_to_files(document):
    text = (ROOT / document).read_text()
    missing = [
        target
        for target in LINK.findall(text)
        if "://" not in target
        and not target.startswith(("mailto:", "/"))
        and not (ROOT / document).parent.joinpath(target).exists()
    ]
    assert missing == [], f"{document} links to files that are not in the repository: {missing}"


APP_PACKAGES = ("config", "core", "labeling", "consistency", "demo")


def _python_files(*roots: str) -> list[Path]:
    return sorted(
        path
        for root in roots
        for path in (ROOT / root).rglob("*.py")
        if "migrations" not in path.parts and ".venv" not in path.parts
    )


def test_no_hand_written_module_over_400_lines():
    long = {
        path.relative_to(ROOT).as_posix(): n
        for path in _python_files(*APP_PACKAGES, "bench", "tests")
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert long == {}, f"split these modules along a seam: {long}"


def _unexplained_local_imports(path: Path, first_party: tuple[str, ...]) -> list[int]:
    """Lines of function-local imports of first-party modules with no comment saying why: on the
    import itself, or on the line above the run of imports it belongs to."""
    import ast

    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    import_lines = {
        line
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for statement in ast.walk(node):
            if isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
                modules = [statement.module]
            elif isinstance(statement, ast.Import):
                modules = [alias.name for alias in statement.names]
            else:
                continue
            if not any(m.split(".")[0] in first_party for m in modules):
                continue
            above = statement.lineno - 1  # 1-based number of the line above
            while above >= 1 and (above in import_lines or not lines[above - 1].strip()):
                above -= 1
            explained = "#" in lines[statement.lineno - 1] or (
                above >= 1 and lines[above - 1].strip().startswith("#")
            )
            if not explained:
                found.append(statement.lineno)
    return found


def test_function_local_imports_of_the_project_say_why():
    unexplained = {
        path.relative_to(ROOT).as_posix(): lines
        for path in _python_files(*APP_PACKAGES)
        if (lines := _unexplained_local_imports(path, APP_PACKAGES))
    }
    assert unexplained == {}, f"import at module level, or say why not in a comment: {unexplained}"


def test_the_local_import_check_sees_an_unexplained_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from core import errors\n    return errors\n\n\n"
        "def g():\n    # the app registry is not ready at import time\n    from core import errors\n"
        "    from labeling import models\n    return errors, models\n"
    )
    assert _unexplained_local_imports(module, APP_PACKAGES) == [2]
