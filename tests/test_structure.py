"""The shape of the package: no import cycles, every module importable on its own, a light
CLI import, and every third-party package it imports declared in pyproject.toml."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PACKAGE = ROOT / "auditor"


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, top_level_only: bool) -> list[tuple[str, list[str]]]:
    """(module, names) of each import: at module level only (what runs on import), or
    anywhere (what the code may need), ``if TYPE_CHECKING:`` blocks left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, list[str]]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if _type_checking(node):
                continue
            if isinstance(node, ast.Import):
                out.extend((a.name, []) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.append((node.module, [a.name for a in node.names]))
            elif top_level_only:
                if isinstance(node, (ast.If, ast.Try)):
                    visit(node.body + node.orelse + getattr(node, "finalbody", []))
                    for h in getattr(node, "handlers", []):
                        visit(h.body)
            else:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit([child])
                    else:
                        for sub in ast.walk(child):
                            if isinstance(sub, ast.stmt):
                                visit([sub])

    visit(tree.body)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> auditor modules its module-level code imports. A package's ``__init__``
    importing its own plugins (``from auditor.checks import license_missing`` at the
    bottom, to register them) is not an edge: the plugins need the package, not the
    reverse."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        for module, names in imports(path, top_level_only=True):
            if not module.startswith("auditor"):
                continue
            targets = {module} | {f"{module}.{n}" for n in names if f"{module}.{n}" in known}
            for target in targets:
                if target not in known or target == name:
                    continue
                if is_package and target.startswith(name + "."):
                    continue
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported once, from where it closed)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_graph_sees_imports() -> None:
    """The cycle test below is only as good as the graph: it must see real edges."""
    graph = import_graph()
    assert "auditor.model" in graph["auditor.pipeline"]
    assert "auditor.cli.common" in graph["auditor.cli.scan"]
    assert "auditor.checks" in graph["auditor.checks.license_missing"]
    assert not any(t.startswith("auditor.checks.") for t in graph["auditor.checks"])
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_each_module_imports_alone() -> None:
    """Each module imported first, in a fresh process, whatever the entry point: a cycle
    that only works in one import order fails here. Third-party libraries are loaded
    once in a parent process that then forks one child per module."""
    script = r"""
import importlib, os, sys, traceback
names = sys.argv[1:]
for name in names:
    importlib.import_module(name)  # load third-party libraries once
for name in list(sys.modules):
    if name == "auditor" or name.startswith("auditor."):
        del sys.modules[name]
failed = []
for name in names:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(name)
print("FAILED", " ".join(failed))
"""
    names = [n for n in modules() if not n.endswith("__main__")]  # __main__ runs the CLI
    proc = subprocess.run(
        [sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "FAILED", proc.stdout + proc.stderr[-3000:]


def test_cli_import_is_light() -> None:
    """`auditor --help` and the pre-commit hook start without the pipeline, the data model
    or the heavy libraries: each command imports what it runs."""
    code = (
        "import sys, auditor.cli; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('auditor', 'huggingface_hub', 'spdx_tools', 'git', 'yaml', 'cyclonedx', "
        "'markdown_it', 'license_expression', 'pdfminer', 'sqlite3'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(proc.stdout.split())
    allowed = {"auditor", "auditor.cli", "auditor.errors", "auditor.terminal"} | {
        n for n in modules() if n.startswith("auditor.cli.")
    }
    assert loaded <= allowed, sorted(loaded - allowed)


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    return {_normal(re.split(r"[\s<>=!~;\[]", s, maxsplit=1)[0]) for s in specs}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_declared() -> None:
    """A package the code imports but does not declare works only where something else
    happened to install it (pdfminer.six came with scancode-toolkit, once)."""
    by_module = importlib.metadata.packages_distributions()
    declared = _declared()
    undeclared: dict[str, str] = {}
    for name, path in modules().items():
        for module, _ in imports(path, top_level_only=False):
            top = module.split(".")[0]
            if top == "auditor" or top in sys.stdlib_module_names or top == "__future__":
                continue
            if top == "tomli":  # tomllib's backport, declared for Python < 3.11 only
                assert "tomli" in declared
                continue
            dists = by_module.get(top)
            assert dists, f"{name} imports {top}, which no installed distribution provides"
            if not any(_normal(d) in declared for d in dists):
                undeclared[top] = f"{name} ({', '.join(dists)})"
    assert not undeclared, undeclared


def test_declared_check_sees_real_names() -> None:
    declared = _declared()
    assert {"click", "huggingface-hub", "pdfminer-six", "scancode-toolkit"} <= declared
    assert importlib.util.find_spec("click") is not None
