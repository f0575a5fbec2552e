"""The import structure: no circles, function-level imports only with a reason, any import order works.

Imports run downhill (models ← services/selectors ← views/apis/tasks). A circle hidden behind a
function-level import works until someone moves a line; these tests make it visible at once.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crisisdesk", "monitoring", "incidents", "playbooks")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            modules[_module_name(path)] = path
    return modules


MODULES = _project_modules()


def _resolve(importer: str, node: ast.ImportFrom | ast.Import, is_package: bool) -> list[str]:
    """The project modules a module-level import statement loads."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        candidates = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = importer.split(".")
            anchor = anchor if is_package else anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
    for candidate in candidates:
        # ``from a.b import c`` loads a.b, and a.b.c when c is a module.
        while candidate and candidate not in MODULES:
            candidate = candidate.rpartition(".")[0]
        if candidate and candidate != importer:
            names.append(candidate)
    return names


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import that can run: at module level and inside functions (a function-level import
    hides a circle, it does not remove it), but not ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges.update(_resolve(name, node, path.name == "__init__.py"))
        # Importing a.b.c first runs a/__init__ and a/b/__init__: those are part of the path, not a
        # circle of the importer's making, so parents of the importer itself are left out.
        graph[name] = {edge for edge in edges if not name.startswith(edge + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for edge in sorted(graph.get(node, ())):
            if edge not in index:
                visit(edge)
                low[node] = min(low[node], low[edge])
            elif edge in on_stack:
                low[node] = min(low[node], index[edge])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_in_a_circle():
    cycles = _cycles(_graph())
    assert not cycles, "modules that import each other:\n" + "\n".join(", ".join(c) for c in cycles)


def test_function_level_imports_say_why():
    """An import inside a function is allowed only with a comment on its line or the line above."""
    unexplained = []
    for name, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    here = lines[node.lineno - 1]
                    above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                    if "#" not in here and not above.startswith("#"):
                        unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {here.strip()}")
    assert not unexplained, "function-level imports without a comment saying why:\n" + "\n".join(unexplained)


_IMPORT_ALL = """
import os, sys, importlib
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
import django
django.setup()
for name in sys.argv[1:]:
    importlib.import_module(name)
"""


@pytest.mark.parametrize("order", ["sorted", "reversed", "shuffled-1", "shuffled-2"])
def test_every_module_imports_in_a_fresh_interpreter_in_any_order(order):
    names = sorted(MODULES)
    if order == "reversed":
        names.reverse()
    elif order.startswith("shuffled"):
        random.Random(int(order.rsplit("-", 1)[1])).shuffle(names)
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
