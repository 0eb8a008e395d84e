from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, make_registry, snapshot


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {"name": "base", "version": "1.0.0"},
            {"name": "base", "version": "1.4.0"},
            {"name": "base", "version": "2.0.0"},
            {"name": "app", "version": "1.0.0", "dependencies": {"base": "^1.0"}},
            {"name": "app", "version": "2.0.0", "dependencies": {"base": "^2"}},
        ],
    )


def test_install_adds_manifest_lock_and_skill(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "app@^1", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    assert "+ app 1.0.0" in result.stdout and "+ base 1.4.0" in result.stdout
    assert (project / ".claude/skills/app/SKILL.md").is_file()
    assert (project / ".claude/skills/base/SKILL.md").is_file()
    manifest = yaml.safe_load((project / "skills.yaml").read_text())
    assert manifest["dependencies"] == {"app": "^1"}
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert [(p["name"], p["version"]) for p in lock["packages"]] == [
        ("app", "1.0.0"),
        ("base", "1.4.0"),
    ]


def test_second_install_changes_nothing(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "app", "--registry", registry, cwd=project)
    before = snapshot(project)
    result = cli("install", cwd=project)
    assert result.exit_code == 0
    assert "Nothing to do: 2 packages up to date" in result.stdout
    assert snapshot(project) == before
