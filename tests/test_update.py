"""``outdated`` and ``update`` against a git registry that receives real pushes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from skillpm.formats.index import VersionEntry, latest_entry, newest
from tests.helpers import Cli, GitRegistry, make_git_registry, snapshot


@pytest.fixture
def remote(tmp_path: Path) -> GitRegistry:
    return make_git_registry(
        tmp_path / "server",
        [
            {"name": "base", "version": "1.0.0"},
            {"name": "tool", "version": "1.0.0"},
            {"name": "app", "version": "1.0.0", "dependencies": {"base": "^1.0"}},
        ],
    )


@pytest.fixture
def installed(cli: Cli, project: Path, remote: GitRegistry) -> Path:
    result = cli("install", "app@^1.0", "tool@~1.0", "--registry", remote.url, cwd=project)
    assert result.exit_code == 0, result.output
    remote.push(
        [
            {"name": "base", "version": "1.3.0"},
            {"name": "tool", "version": "1.0.5"},
            {"name": "tool", "version": "2.1.0"},
        ]
    )
    return project


def versions(project: Path) -> dict[str, str]:
    data = yaml.safe_load((project / "skills.lock").read_text())
    return {p["name"]: p["version"] for p in data["packages"]}


def test_outdated_json(cli: Cli, installed: Path) -> None:
    result = cli("outdated", "--json", "--refresh", cwd=installed)
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["packages"]}
    assert set(rows) == {"base", "tool"}
    assert (rows["base"]["current"], rows["base"]["wanted"], rows["base"]["latest"]) == (
        "1.0.0",
        "1.3.0",
        "1.3.0",
    )
    assert (rows["tool"]["current"], rows["tool"]["wanted"], rows["tool"]["latest"]) == (
        "1.0.0",
        "1.0.5",
        "2.1.0",
    )
    assert rows["tool"]["direct"] and not rows["base"]["direct"]


def test_outdated_changes_nothing(cli: Cli, installed: Path) -> None:
    before = snapshot(installed)
    text = cli("outdated", "--refresh", cwd=installed)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0].split() == ["Package", "Current", "Wanted", "Latest"]
    assert "skillpm update --latest" in text.stdout
    assert snapshot(installed) == before


def test_update_moves_within_ranges(cli: Cli, installed: Path) -> None:
    before_manifest = (installed / "skills.yaml").read_text()
    result = cli("update", cwd=installed)
    assert result.exit_code == 0, result.output
    assert versions(installed) == {"app": "1.0.0", "base": "1.3.0", "tool": "1.0.5"}
    assert (installed / "skills.yaml").read_text() == before_manifest
    # Only tool 2.1.0 is left, beyond its range.
    rest = cli("outdated", cwd=installed).stdout.splitlines()
    assert rest[1].split() == ["tool", "1.0.5", "1.0.5", "2.1.0"]
    again = cli("update", cwd=installed)
    assert "Nothing to update" in again.stdout


def test_update_named_package_only(cli: Cli, installed: Path) -> None:
    result = cli("update", "tool", cwd=installed)
    assert result.exit_code == 0, result.output
    assert versions(installed) == {"app": "1.0.0", "base": "1.0.0", "tool": "1.0.5"}


def test_update_latest_widens_the_range(cli: Cli, installed: Path) -> None:
    result = cli("update", "tool", "--latest", cwd=installed)
    assert result.exit_code == 0, result.output
    assert versions(installed)["tool"] == "2.1.0"
    assert yaml.safe_load((installed / "skills.yaml").read_text())["dependencies"] == {
        "app": "^1.0",
        "tool": "^2.1.0",
    }
    left = cli("outdated", cwd=installed).stdout.splitlines()
    assert [row.split()[0] for row in left[1:-1]] == ["base"]  # only the one not named


def test_update_dry_run_changes_nothing(cli: Cli, installed: Path) -> None:
    before = snapshot(installed)
    result = cli("update", "--latest", "--dry-run", cwd=installed)
    assert result.exit_code == 0, result.output
    assert "+ tool 2.1.0" in result.stdout
    assert snapshot(installed) == before


def test_update_errors(cli: Cli, installed: Path) -> None:
    before = snapshot(installed)
    unknown = cli("update", "tol", cwd=installed)
    assert unknown.exit_code == 1 and "did you mean tool" in unknown.stderr
    indirect = cli("update", "base", "--latest", cwd=installed)
    assert indirect.exit_code == 1
    assert "base is not in skills.yaml dependencies" in indirect.stderr
    assert snapshot(installed) == before


def test_outdated_without_lock(cli: Cli, project: Path) -> None:
    assert "All 0 packages" in cli("outdated", cwd=project).stdout
    (project / "skills.yaml").write_text("dependencies:\n  base: ^1\n")
    result = cli("outdated", cwd=project)
    assert result.exit_code == 1 and "run 'skillpm install' first" in result.stderr


def _versions(*specs: str) -> dict[str, VersionEntry]:
    """``1.0.0`` a release, ``1.1.0!`` a yanked one."""
    made = [
        VersionEntry("p", s.rstrip("!"), "sha256:" + "0" * 64, yanked=s[-1] == "!") for s in specs
    ]
    return {e.version: e for e in made}


def _version(entry: VersionEntry | None) -> str | None:
    return entry.version if entry else None


def test_newest_skips_yanked_versions_and_prereleases_unless_asked() -> None:
    versions = _versions("1.0.0", "1.1.0!", "1.2.0rc1", "0.9.0")
    assert _version(newest(versions.values())) == "1.0.0"
    assert _version(newest(versions.values(), prereleases=True)) == "1.2.0rc1"
    assert latest_entry(versions).version == "1.0.0"
    only_pre = _versions("2.0.0b1", "2.0.0b2!")
    assert newest(only_pre.values()) is None
    assert latest_entry(only_pre).version == "2.0.0b1"
    all_yanked = _versions("1.0.0!", "1.1.0!")
    assert newest(all_yanked.values(), prereleases=True) is None
    assert latest_entry(all_yanked).version == "1.1.0"
