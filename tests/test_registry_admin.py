"""Registry maintenance: yank/unyank, ``registry reindex`` and ``registry verify``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, make_registry, skill_md, snapshot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {"name": "base", "version": "1.0.0"},
            {"name": "base", "version": "1.1.0"},
            {"name": "app", "version": "1.0.0", "dependencies": {"base": "^1"}},
        ],
    )


def _versions(registry: Path, name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((registry / "index.json").read_text())["packages"][name]["versions"]


def _locked(project: Path) -> dict[str, str]:
    lock = yaml.safe_load((project / "skills.lock").read_text())
    return {p["name"]: p["version"] for p in lock["packages"]}


# --- yank / unyank ----------------------------------------------------------------------


def test_yank_skips_new_resolutions_but_the_lock_still_installs(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    assert cli("install", "app", "--registry", registry, cwd=locked).exit_code == 0
    assert _locked(locked)["base"] == "1.1.0"

    result = cli("yank", "base", "1.1.0", "--reason", "breaks app", "--registry", registry)
    assert result.exit_code == 0, result.output
    entry = _versions(registry, "base")["1.1.0"]
    assert entry["yanked"] is True and entry["yank-reason"] == "breaks app"

    # cargo semantics: the existing lock still installs the yanked version, with a warning.
    shutil.rmtree(locked / ".claude")
    result = cli("install", "--frozen", cwd=locked)
    assert result.exit_code == 0, result.output
    assert "base 1.1.0 is yanked" in result.stderr and "breaks app" in result.stderr
    assert (locked / ".claude/skills/base/SKILL.md").is_file()
    # Re-resolving keeps the locked version too (the lock is still satisfiable).
    (locked / "skills.lock").write_text((locked / "skills.lock").read_text() + "\n")
    assert cli("install", cwd=locked).exit_code == 0
    assert _locked(locked)["base"] == "1.1.0"

    # A fresh project does not get it.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert cli("install", "app", "--registry", registry, cwd=fresh).exit_code == 0
    assert _locked(fresh)["base"] == "1.0.0"

    # Unyank: resolution may pick it again.
    result = cli("unyank", "base", "1.1.0", "--registry", registry)
    assert result.exit_code == 0 and "no longer yanked" in result.stdout
    entry = _versions(registry, "base")["1.1.0"]
    assert entry["yanked"] is False and "yank-reason" not in entry
    again = tmp_path / "again"
    again.mkdir()
    assert cli("install", "app", "--registry", registry, cwd=again).exit_code == 0
    assert _locked(again)["base"] == "1.1.0"


def test_everything_yanked_explains_itself(cli: Cli, registry: Path, project: Path) -> None:
    for version in ("1.0.0", "1.1.0"):
        assert cli("yank", "base", version, "--registry", registry).exit_code == 0
    result = cli("install", "base", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert "available versions are none; yanked: 1.0.0, 1.1.0" in result.stderr


def test_yank_twice_and_unyank_unyanked_change_nothing(cli: Cli, registry: Path) -> None:
    assert cli("yank", "base", "1.0.0", "--registry", registry).exit_code == 0
    before = snapshot(registry)
    result = cli("yank", "base", "1.0.0", "--registry", registry)
    assert result.exit_code == 0 and "already yanked" in result.stdout
    assert snapshot(registry) == before
    result = cli("unyank", "base", "1.1.0", "--registry", registry)
    assert result.exit_code == 0 and "was not yanked" in result.stdout
    assert snapshot(registry) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "1.0.0"), "no package named 'nope'"),
        (("base", "9.9.9"), "base has no version 9.9.9 (it has 1.0.0, 1.1.0)"),
    ],
)
def test_yank_unknown_is_refused(
    cli: Cli, registry: Path, args: tuple[str, str], message: str
) -> None:
    before = snapshot(registry)
    for command in ("yank", "unyank"):
        result = cli(command, *args, "--registry", registry)
        assert result.exit_code == 1
        assert message in result.stderr
    assert snapshot(registry) == before


def test_yank_needs_a_registry(cli: Cli, tmp_path: Path) -> None:
    result = cli("yank", "base", "1.0.0", "--registry", tmp_path / "missing")
    assert result.exit_code == 1 and "folder not found" in result.stderr
    assert not (tmp_path / "missing").exists()


# --- reindex ----------------------------------------------------------------------------


def test_reindex_rebuilds_a_lost_index_byte_for_byte(cli: Cli, registry: Path) -> None:
    original = (registry / "index.json").read_bytes()
    result = cli("registry", "reindex", registry)
    assert result.exit_code == 0 and "up to date" in result.stdout
    assert (registry / "index.json").read_bytes() == original
    (registry / "index.json").unlink()
    result = cli("registry", "reindex", registry)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "+ app 1.0.0" in result.stdout and "+ base 1.1.0" in result.stdout
    rebuilt = json.loads((registry / "index.json").read_text())
    expected = json.loads(original)
    for name, pkg in expected["packages"].items():
        for version, entry in pkg["versions"].items():
            entry["published"] = rebuilt["packages"][name]["versions"][version]["published"]
    assert rebuilt == expected


def test_reindex_keeps_dates_and_yanks_and_reports_changes(
    cli: Cli, registry: Path, tmp_path: Path
) -> None:
    assert cli("yank", "base", "1.0.0", "--reason", "old", "--registry", registry).exit_code == 0
    before = _versions(registry, "base")
    # Another version arrives by hand (say, a merged pull request), one is deleted.
    manual = registry / "packages/base/2.0.0"
    shutil.copytree(registry / "packages/base/1.1.0", manual)
    manifest = manual / "skillpm.yaml"
    manifest.write_text(manifest.read_text().replace("1.1.0", "2.0.0"))
    shutil.rmtree(registry / "packages/app")
    (registry / "packages/base/.1.2.0.tmpabc").mkdir()  # an interrupted publish
    result = cli("registry", "reindex", cwd=registry)  # PATH defaults to -C
    assert result.exit_code == 0, result.output
    assert "+ base 2.0.0" in result.stdout and "- app 1.0.0" in result.stdout
    assert "packages/base/.1.2.0.tmpabc: not a package version folder" in result.stderr
    after = _versions(registry, "base")
    assert after["1.0.0"] == before["1.0.0"]  # published date, yank and reason kept
    assert after["1.1.0"] == before["1.1.0"]
    assert after["2.0.0"]["integrity"].startswith("sha256:")
    assert "app" not in json.loads((registry / "index.json").read_text())["packages"]
    assert cli("registry", "verify", registry).exit_code == 0


def test_reindex_recovers_from_a_corrupt_index(cli: Cli, registry: Path) -> None:
    (registry / "index.json").write_text("{not json")
    result = cli("registry", "reindex", registry)
    assert result.exit_code == 0, result.output
    assert "the old index could not be read" in result.stderr
    assert sorted(_versions(registry, "base")) == ["1.0.0", "1.1.0"]


def test_reindex_refuses_a_bad_package_and_changes_nothing(cli: Cli, registry: Path) -> None:
    skill = registry / "packages/base/1.0.0/skills/base/SKILL.md"
    skill.write_text(skill_md("renamed"))
    before = snapshot(registry)
    result = cli("registry", "reindex", registry)
    assert result.exit_code == 1
    assert "must equal its folder name 'base'" in result.stderr
    assert snapshot(registry) == before


def test_reindex_refuses_a_folder_that_is_not_a_registry(cli: Cli, tmp_path: Path) -> None:
    result = cli("registry", "reindex", tmp_path)
    assert result.exit_code == 1 and "not a registry" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- verify -----------------------------------------------------------------------------


def test_verify_passes_a_clean_registry(cli: Cli, registry: Path) -> None:
    result = cli("registry", "verify", registry)
    assert result.exit_code == 0, result.output
    assert "Verified 3 versions" in result.stdout


def test_verify_reports_every_mismatch(cli: Cli, registry: Path) -> None:
    (registry / "packages/base/1.0.0/skills/base/SKILL.md").write_text(
        skill_md("base", body="tampered")
    )
    shutil.rmtree(registry / "packages/base/1.1.0")
    shutil.copytree(registry / "packages/app/1.0.0", registry / "packages/app/1.5.0")
    manifest = registry / "packages/app/1.5.0/skillpm.yaml"
    manifest.write_text(manifest.read_text().replace("1.0.0", "1.5.0"))
    index = json.loads((registry / "index.json").read_text())
    index["packages"]["app"]["versions"]["1.0.0"]["dependencies"] = {}
    (registry / "index.json").write_text(json.dumps(index))
    before = snapshot(registry)
    result = cli("registry", "verify", registry)
    assert result.exit_code == 1
    err = result.stderr
    assert "error: base 1.0.0: integrity mismatch: index.json says sha256:" in err
    assert "error: base 1.1.0: packages/base/1.1.0 is missing" in err
    assert "error: app 1.0.0: index.json lists dependencies {} but" in err
    assert "packages/app/1.5.0: not listed in index.json" in err
    assert "4 problems in 3 versions" in err
    assert "Traceback" not in result.output
    assert snapshot(registry) == before


def test_verify_refuses_a_symlink_in_a_registry(cli: Cli, registry: Path) -> None:
    (registry / "packages/base/1.0.0/skills/base/passwd").symlink_to("/etc/passwd")
    result = cli("registry", "verify", registry)
    assert result.exit_code == 1
    assert "base 1.0.0: skills/base/passwd: symbolic links are not allowed" in result.stderr


def test_verify_needs_an_index(cli: Cli, tmp_path: Path) -> None:
    result = cli("registry", "verify", tmp_path)
    assert result.exit_code == 1 and "not a registry (no index.json)" in result.stderr
    result = cli("registry", "verify", tmp_path / "missing")
    assert result.exit_code == 1 and "folder not found" in result.stderr


def test_the_builtin_registry_verifies() -> None:
    """What .ci/run checks: the repository's own registry/ matches its index."""
    proc = subprocess.run(
        [sys.executable, "-m", "skillpm", "registry", "verify", "registry"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
