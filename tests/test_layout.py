"""The house: no import circles, rooms of a few hundred lines, public doors between rooms.

Read from the source (every import, the lazy ones inside functions too), so the rules
hold for code no test happens to import.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("sweep", "kernels", "analysis")
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for package in PACKAGES
    for path in sorted((ROOT / package).rglob("*.py"))
}


def imports(name: str) -> list[tuple[str, list[str], int]]:
    """``(module, names, line)`` of every import in module ``name``: the project module
    it reaches and the names it takes from it (none for ``import x``)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:  # from package import module
                    found.append((submodule, [], node.lineno))
                else:
                    found.append((base, [alias.name], node.lineno))
    return [(target, names, line) for target, names, line in found if target in MODULES]


GRAPH = {name: sorted({target for target, _, _ in imports(name)} - {name}) for name in MODULES}


def cycles() -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return groups


def test_the_walk_sees_the_imports_it_must():
    # A check that found no imports would pass on anything: these edges exist.
    assert "sweep.store.reading" in GRAPH["sweep.store.consolidation"]
    assert "sweep.grid.loading" in GRAPH["sweep.grid"]
    assert "analysis.commands" in GRAPH["sweep.cli"]  # imported inside a function


def test_no_import_circles():
    assert cycles() == []


@pytest.mark.parametrize("name", list(MODULES), ids=str)
def test_a_room_is_a_few_hundred_lines(name: str):
    lines = len(MODULES[name].read_text("utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]}: {lines} lines; split it into rooms"


def test_names_crossing_a_module_boundary_are_public():
    private = [
        f"{MODULES[name].relative_to(ROOT)}:{line}: {target}.{taken}"
        for name in MODULES
        for target, names, line in imports(name)
        for taken in names
        if taken.startswith("_") and target != name
    ]
    assert private == []
