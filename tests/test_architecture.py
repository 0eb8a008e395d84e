"""The package's shape: imports run one way between subpackages, with no cycle.

Every import counts, including those inside functions (lazy) and under
``TYPE_CHECKING``: a cycle closed lazily is still a cycle in the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "skillpm"

# Lower layers never import higher ones; packages on one layer do not import each other.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"<basics>"}),
    frozenset({"formats"}),
    frozenset({"content", "signing", "sbom"}),
    frozenset({"registry"}),
    frozenset({"resolve"}),
    frozenset({"project"}),
    frozenset({"install", "publish"}),
    frozenset({"lint", "doctor"}),
    frozenset({"policy"}),
    frozenset({"commands"}),
    frozenset({"cli"}),
    frozenset({"<main>"}),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name}: relative import"
                base = node.module or ""
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in modules else base)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _room(module: str) -> str:
    parts = module.split(".")
    if module == "skillpm.__main__":
        return "<main>"
    if (len(parts) == 2 and (PACKAGE / f"{parts[1]}.py").is_file()) or module == "skillpm":
        return "<basics>"
    return parts[1]


def _layer(room: str) -> int:
    return next(i for i, rooms in enumerate(LAYERS) if room in rooms)


def test_every_room_has_a_layer() -> None:
    rooms = {_room(m) for m in _modules()}
    assert rooms <= set().union(*LAYERS), rooms - set().union(*LAYERS)


def test_imports_run_one_way() -> None:
    wrong = []
    for module, deps in _imports(_modules()).items():
        for dep in deps:
            here, there = _room(module), _room(dep)
            if here != there and _layer(there) >= _layer(here):
                wrong.append(f"{module} -> {dep}")
    assert not wrong, "imports against the layering (see README, Development):\n" + "\n".join(
        sorted(wrong)
    )


def test_no_import_cycle() -> None:
    graph = _imports(_modules())
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_commands_do_not_import_each_other() -> None:
    for module, deps in _imports(_modules()).items():
        if module.startswith("skillpm.commands."):
            assert not [d for d in deps if d.startswith("skillpm.commands.")], module


def test_the_top_level_holds_only_shared_basics() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert len(top) <= 12, top
    assert len(subpackages) >= 6, subpackages


def test_subpackage_inits_import_nothing() -> None:
    # Importing skillpm.x.y runs skillpm/x/__init__.py first: it must stay free, or the
    # no-op fast path pays for it.
    for init in PACKAGE.glob("*/__init__.py"):
        tree = ast.parse(init.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)], init


def test_modules_stay_under_500_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) >= 500
    }
    assert not long, long
