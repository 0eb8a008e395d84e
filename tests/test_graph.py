"""``why`` and ``tree``: the locked graph, read without any registry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from skillpm.formats.project_files import LockedPackage
from skillpm.resolve.depgraph import MAX_CHAINS, build_tree, chains_to, render_tree
from tests.helpers import Cli, make_registry, snapshot

SHA = "sha256:" + "0" * 64


def _locked(graph: dict[str, list[str]]) -> dict[str, LockedPackage]:
    return {
        n: LockedPackage(n, "1.0.0", "r", SHA, dependencies=tuple(deps), skills=(n,))
        for n, deps in graph.items()
    }


@pytest.fixture
def project_with_diamond(cli: Cli, project: Path, tmp_path: Path) -> Path:
    registry = make_registry(
        tmp_path / "registry",
        [
            {"name": "base", "version": "1.2.0"},
            {"name": "mid", "version": "1.0.0", "dependencies": {"base": "^1"}},
            {"name": "app", "version": "1.0.0", "dependencies": {"base": "^1", "mid": "^1"}},
            {"name": "tool", "version": "0.3.0"},
        ],
    )
    assert cli("install", "app", "tool@~0.3", "--registry", registry, cwd=project).exit_code == 0
    # The registry is not needed from here on: why and tree read only the lock.
    shutil.rmtree(registry)
    return project


def test_why_lists_every_chain_shortest_first(cli: Cli, project_with_diamond: Path) -> None:
    result = cli("why", "base", cwd=project_with_diamond)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "base 1.2.0 is installed because skills.yaml requires:",
        "  app ^1.0.0 → base 1.2.0",
        "  app ^1.0.0 → mid 1.0.0 → base 1.2.0",
    ]
    direct = cli("why", "tool", cwd=project_with_diamond)
    assert direct.stdout.splitlines()[1] == "  tool ~0.3"


def test_why_json(cli: Cli, project_with_diamond: Path) -> None:
    data = json.loads(cli("why", "mid", "--json", cwd=project_with_diamond).stdout)
    assert data == {
        "name": "mid",
        "version": "1.0.0",
        "direct": False,
        "chains": [
            {
                "requirement": "^1.0.0",
                "path": [
                    {"name": "app", "version": "1.0.0"},
                    {"name": "mid", "version": "1.0.0"},
                ],
            }
        ],
        "truncated": False,
    }


def test_why_unknown_name_suggests(cli: Cli, project_with_diamond: Path) -> None:
    before = snapshot(project_with_diamond)
    result = cli("why", "bsae", cwd=project_with_diamond)
    assert result.exit_code == 1
    assert result.stderr == "error: no package named 'bsae' in skills.lock; did you mean base?\n"
    result = cli("why", "zzz", cwd=project_with_diamond)
    assert result.stderr.endswith("in skills.lock; it is not installed\n")
    assert snapshot(project_with_diamond) == before


def test_why_and_tree_need_a_lock(cli: Cli, project: Path) -> None:
    for args in (("why", "x"), ("tree",)):
        result = cli(*args, cwd=project)
        assert result.exit_code == 1
        assert "no skills.lock" in result.stderr and "run 'skillpm install'" in result.stderr
    assert list(project.iterdir()) == []


def test_tree_text_and_json(cli: Cli, project_with_diamond: Path) -> None:
    result = cli("tree", cwd=project_with_diamond)
    assert result.stdout.splitlines() == [
        "app 1.0.0",
        "├── base 1.2.0",
        "└── mid 1.0.0",
        "    └── base 1.2.0",
        "tool 0.3.0",
    ]
    data = json.loads(cli("tree", "--json", cwd=project_with_diamond).stdout)
    app = data["dependencies"][0]
    assert (app["name"], app["version"], app["requirement"]) == ("app", "1.0.0", "^1.0.0")
    assert [d["name"] for d in app["dependencies"]] == ["base", "mid"]
    assert app["dependencies"][1]["dependencies"][0]["name"] == "base"
    assert data["unused"] == []


def test_tree_warns_when_the_lock_is_stale(cli: Cli, project_with_diamond: Path) -> None:
    manifest = project_with_diamond / "skills.yaml"
    manifest.write_text(manifest.read_text().replace("  tool: ~0.3\n", "  other: ^1\n"))
    result = cli("tree", cwd=project_with_diamond)
    assert "warning: skills.lock is out of date with skills.yaml" in result.stderr
    assert "other ^1 (not installed: run 'skillpm install')" in result.stdout
    assert "locked but not needed by skills.yaml: tool" in result.stdout


def test_repeated_subtrees_are_marked_once_expanded() -> None:
    locked = _locked({"a": ["c"], "b": ["c"], "c": ["d"], "d": []})
    roots, orphans = build_tree({"a": "*", "b": "*"}, locked)
    assert orphans == []
    assert render_tree(roots, ascii_only=True) == [
        "a 1.0.0",
        "`-- c 1.0.0",
        "    `-- d 1.0.0",
        "b 1.0.0",
        "`-- c 1.0.0 (*)",
        "(*) dependencies shown above",
    ]


def test_cycles_end_the_walk() -> None:
    locked = _locked({"a": ["b"], "b": ["a"]})
    roots, _ = build_tree({"a": "^1"}, locked)
    assert render_tree(roots) == ["a 1.0.0", "└── b 1.0.0", "    └── a 1.0.0 (cycle)"]
    assert chains_to("b", ["a"], locked) == ([["a", "b"]], False)


def test_chains_are_capped() -> None:
    # 2**10 paths through a ladder of diamonds.
    graph: dict[str, list[str]] = {}
    for i in range(10):
        graph[f"n{i}"] = [f"l{i}", f"r{i}"]
        graph[f"l{i}"] = [f"n{i + 1}"]
        graph[f"r{i}"] = [f"n{i + 1}"]
    graph["n10"] = []
    paths, truncated = chains_to("n10", ["n0"], _locked(graph))
    assert truncated and len(paths) == MAX_CHAINS
