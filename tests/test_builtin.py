"""The built-in registry: shipped in the wheel, installable with no configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, snapshot

ROOT = Path(__file__).resolve().parent.parent


def test_install_cdk_patterns_in_an_empty_folder(cli: Cli, project: Path) -> None:
    result = cli("install", "cdk-patterns", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / ".claude/skills/cdk-patterns/SKILL.md").is_file()
    lock = yaml.safe_load((project / "skills.lock").read_text())
    entry = next(p for p in lock["packages"] if p["name"] == "cdk-patterns")
    assert entry["registry"] == "builtin"
    again = cli("install", cwd=project)
    assert "Nothing to do" in again.stdout


def test_older_cdk_patterns_by_range(cli: Cli, project: Path) -> None:
    assert cli("install", "cdk-patterns@~1.0", cwd=project).exit_code == 0
    lock = yaml.safe_load((project / "skills.lock").read_text())
    versions = {p["name"]: p["version"] for p in lock["packages"]}
    assert versions["cdk-patterns"].startswith("1.0.")


@pytest.mark.parametrize(
    "name", ["cdk-patterns", "bedrock-agentcore", "serverless-cost-ops", "bedrock-orchestration"]
)
def test_builtin_skills_install(cli: Cli, project: Path, name: str) -> None:
    assert cli("install", name, cwd=project).exit_code == 0
    assert (project / f".claude/skills/{name}/SKILL.md").is_file()


def test_non_editable_wheel_carries_the_registry(tmp_path: Path) -> None:
    """Build the real wheel and run it with no checkout on the path."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheel_dir.glob("skillpm-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        assert "skillpm/_registry/index.json" in zf.namelist()
        assets = ROOT / "src/skillpm/publish/catalog_assets"  # build-static's templates
        for asset in assets.iterdir():
            assert f"skillpm/publish/catalog_assets/{asset.name}" in zf.namelist()
        zf.extractall(site)
    project = tmp_path / "empty"
    project.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run(
        [sys.executable, "-m", "skillpm", "install", "cdk-patterns"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (project / ".claude/skills/cdk-patterns/SKILL.md").is_file()
    before = snapshot(project)
    proc = subprocess.run(
        [sys.executable, "-m", "skillpm", "install"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Nothing to do" in proc.stdout
    assert snapshot(project) == before
