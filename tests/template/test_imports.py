"""The layer's modules import one another in one direction only: no cycle, not even one hidden
behind an import inside a function (which Python allows, and which hides that two modules cannot be
understood, tested or changed apart)."""

from __future__ import annotations

import ast
from pathlib import Path

from local.template import ROOT

PACKAGE = ROOT / "layers" / "msglog" / "msglog"


def module_name(path: Path, root: Path = PACKAGE.parent) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str], root: Path = PACKAGE.parent) -> set[str]:
    """Every layer module the file imports, at the top or anywhere inside it."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from msglog import views`
    return {module for module in found if module in known} - {name}


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(path) for path in files}
    return {module_name(path): imports_of(path, known) for path in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_checker_sees_a_cycle_behind_a_function_local_import(tmp_path):
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def late():\n    from a import x\n")
    edges = {path.stem: imports_of(path, {"a", "b"}, tmp_path) for path in tmp_path.glob("*.py")}
    assert cycles(edges) == [["a", "b"]]


def test_the_layer_has_no_import_cycle():
    edges = graph()
    assert len(edges) > 40 and sum(map(len, edges.values())) > 100  # it read the package
    assert cycles(edges) == []


def package_map() -> list[tuple[str, list[str]]]:
    """The groups the package's docstring lists, in order, with their modules."""
    groups: list[tuple[str, list[str]]] = []
    for line in (PACKAGE / "__init__.py").read_text().splitlines():
        if line.startswith("- ") and ":" in line:
            name, _, modules = line[2:].partition(":")
            groups.append((name, modules.split()))
        elif line.startswith("  ") and not line.startswith("    ") and groups:
            groups[-1][1].extend(line.split())
    return groups


def test_the_package_map_places_every_module_and_no_import_runs_back_up():
    groups = package_map()
    rank = {f"msglog.{module}": place for place, (_, modules) in enumerate(groups) for module in modules}
    edges = {module: targets for module, targets in graph().items() if module != "msglog"}
    group_of = {module: rank.get(module.split(".")[0] + "." + module.split(".")[1]) for module in edges}
    assert sorted(m for m, place in group_of.items() if place is None) == []  # each module has a place
    upward = sorted(f"{m} -> {t}" for m, targets in edges.items() for t in targets
                    if t in group_of and group_of[t] > group_of[m])
    assert upward == []
