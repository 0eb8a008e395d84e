"""``export-marketplace``: a skillpm registry that Claude Code's /plugin can read too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from skillpm.registry import marketplace as mp
from tests.helpers import Cli, fragment_md, make_git_repo, make_registry, snapshot

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def documented_problems(data: Any) -> list[str]:
    """The required fields of marketplace.json as Claude Code's reference lists them,
    checked independently of skillpm's own ``marketplace.validate``."""
    problems = []
    if not (isinstance(data.get("name"), str) and KEBAB.match(data["name"])):
        problems.append("name")
    owner = data.get("owner")
    if not (isinstance(owner, dict) and isinstance(owner.get("name"), str) and owner["name"]):
        problems.append("owner.name")
    if not isinstance(data.get("plugins"), list):
        return [*problems, "plugins"]
    for plugin in data["plugins"]:
        if not (isinstance(plugin.get("name"), str) and KEBAB.match(plugin["name"])):
            problems.append("plugins[].name")
        source = plugin.get("source")
        if not (isinstance(source, str) and source.startswith("./") and ".." not in source):
            problems.append("plugins[].source")
        for key in ("version", "description"):
            if key in plugin and not isinstance(plugin[key], str):
                problems.append(f"plugins[].{key}")
        if "strict" in plugin and not isinstance(plugin["strict"], bool):
            problems.append("plugins[].strict")
    return problems


SPECS = [
    {"name": "cdk-kit", "version": "1.0.0", "skills": {"cdk": "", "cdk-review": ""}},
    {"name": "cdk-kit", "version": "1.1.0", "skills": {"cdk": "v1.1", "cdk-review": ""}},
    {"name": "notes", "version": "0.2.0", "skills": {"notes": ""}},
    {"name": "rules-only", "skills": {}, "fragments": {"house": fragment_md("house", "Hi")}},
]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(tmp_path / "reg", SPECS)


def test_export_validates_and_lists_the_latest_versions(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    result = cli("export-marketplace", registry, "--name", "acme", "--owner", "Acme Platform")
    assert result.exit_code == 0, result.output
    data = json.loads((registry / ".claude-plugin/marketplace.json").read_text())
    assert documented_problems(data) == []
    assert mp.validate(data) == []
    assert data["name"] == "acme" and data["owner"] == {"name": "Acme Platform"}
    plugins = {p["name"]: p for p in data["plugins"]}
    assert sorted(plugins) == ["cdk-kit", "notes"]  # fragments only: left out
    assert plugins["cdk-kit"]["version"] == "1.1.0"
    assert plugins["cdk-kit"]["source"] == "./packages/cdk-kit/1.1.0"
    assert plugins["cdk-kit"]["strict"] is False
    assert plugins["cdk-kit"]["skills"] == ["./skills/cdk", "./skills/cdk-review"]
    for plugin in data["plugins"]:
        assert (registry / plugin["source"] / plugin["skills"][0] / "SKILL.md").is_file()


def test_export_skips_yanked_and_dry_run_writes_nothing(cli: Cli, registry: Path) -> None:
    assert cli("yank", "cdk-kit", "1.1.0", "--registry", registry).exit_code == 0
    before = snapshot(registry)
    dry = cli("export-marketplace", registry, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "+ cdk-kit 1.0.0" in dry.stdout
    assert snapshot(registry) == before
    assert cli("export-marketplace", registry).exit_code == 0
    data = json.loads((registry / ".claude-plugin/marketplace.json").read_text())
    assert data["name"] == "reg"
    assert {p["name"]: p["version"] for p in data["plugins"]}["cdk-kit"] == "1.0.0"


def test_export_errors(cli: Cli, tmp_path: Path, registry: Path) -> None:
    missing = cli("export-marketplace", tmp_path / "nope")
    assert missing.exit_code == 1
    assert "folder not found" in missing.stderr
    bad = cli("export-marketplace", registry, "--name", "Bad Name")
    assert bad.exit_code == 1
    assert "a marketplace name is kebab-case" in bad.stderr
    assert not (registry / ".claude-plugin").exists()


def test_round_trip_through_the_marketplace_gives_the_same_skills(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    assert cli("export-marketplace", registry, "--name", "acme").exit_code == 0
    # The same repository read as a marketplace only: without index.json.
    files = {
        p.relative_to(registry).as_posix(): p.read_bytes()
        for p in registry.rglob("*")
        if p.is_file() and p.name != "index.json"
    }
    server = make_git_repo(tmp_path / "server", files)

    direct, via = tmp_path / "direct", tmp_path / "via"
    direct.mkdir()
    via.mkdir()
    one = cli("install", "cdk-kit", "notes", "--registry", registry, cwd=direct)
    assert one.exit_code == 0, one.output
    two = cli("install", "cdk-kit", "notes", "--registry", server.url, cwd=via)
    assert two.exit_code == 0, two.output
    assert snapshot(direct / ".claude/skills") == snapshot(via / ".claude/skills")
    assert "+ cdk-kit 1.1.0" in two.stdout


# -- the pure parts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"owner": {"name": "x"}, "plugins": []}, "name: required"),
        ({"name": "m", "plugins": []}, "owner: required"),
        ({"name": "m", "owner": {"name": "x", "email": "nope"}, "plugins": []}, "owner.email"),
        ({"name": "m", "owner": {"name": "x"}}, "plugins: required"),
        (
            {"name": "m", "owner": {"name": "x"}, "plugins": [{"name": "Bad", "source": "./a"}]},
            "plugins[0].name",
        ),
        (
            {"name": "m", "owner": {"name": "x"}, "plugins": [{"name": "a", "source": "a"}]},
            "must start with ./",
        ),
        (
            {"name": "m", "owner": {"name": "x"}, "plugins": [{"name": "a", "source": "./../a"}]},
            "points outside the repository",
        ),
        (
            {"name": "m", "owner": {"name": "x"}, "plugins": [{"name": "a", "source": {}}]},
            "plugins[0].source.source",
        ),
        (
            {
                "name": "m",
                "owner": {"name": "x"},
                "plugins": [{"name": "a", "source": "./a"}, {"name": "a", "source": "./b"}],
            },
            "listed twice",
        ),
        (
            {
                "name": "m",
                "owner": {"name": "x"},
                "plugins": [{"name": "a", "source": "./a", "strict": "no"}],
            },
            "strict",
        ),
    ],
)
def test_validate_reports_each_required_field(data: Any, problem: str) -> None:
    problems = mp.validate(data)
    assert any(problem in p for p in problems), problems


def test_validate_accepts_real_marketplace_shapes() -> None:
    # The shapes of anthropics/skills and anthropics/claude-code marketplaces.
    data = {
        "name": "anthropic-agent-skills",
        "owner": {"name": "Someone", "email": "someone@example.com"},
        "metadata": {"description": "Example skills", "version": "1.0.0"},
        "plugins": [
            {
                "name": "document-skills",
                "source": "./",
                "strict": False,
                "skills": ["./skills/xlsx", "./skills/pdf"],
            },
            {
                "name": "code-review",
                "source": "./plugins/code-review",
                "version": "1.0.0",
                "author": {"name": "A"},
                "category": "productivity",
            },
            {"name": "remote", "source": {"source": "github", "repo": "o/r"}},
        ],
    }
    assert mp.validate(data) == []


def test_plugin_folder_rules() -> None:
    def folder(source: Any, root: str = "") -> str:
        return mp.plugin_folder(mp.PluginEntry("p", source), root)

    assert folder("./") == ""
    assert folder("./plugins/p/") == "plugins/p"
    assert folder("p", "plugins") == "plugins/p"
    for bad in ("./../x", "/abs", "https://example.com/x.git", {"source": "url", "url": "u"}):
        with pytest.raises(mp.Unsupported):
            folder(bad)
