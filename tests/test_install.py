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


def test_frozen_restores_the_same_bytes(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "app", "--registry", registry, cwd=project)
    before = snapshot(project)
    import shutil

    shutil.rmtree(project / ".claude/skills")
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 0, result.output
    assert "(restored)" in result.stdout
    assert snapshot(project) == before


def test_range_picks_matching_version(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "base@~1.0", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert lock["packages"][0]["version"] == "1.0.0"
    assert yaml.safe_load((project / "skills.yaml").read_text())["dependencies"] == {"base": "~1.0"}


def test_pep440_range(cli: Cli, project: Path, registry: Path) -> None:
    assert cli("install", "base@>=1.1,<2", "--registry", registry, cwd=project).exit_code == 0
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert lock["packages"][0]["version"] == "1.4.0"


def test_bare_name_saved_as_caret_of_latest(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "base", "--registry", registry, cwd=project)
    manifest = yaml.safe_load((project / "skills.yaml").read_text())
    assert manifest["dependencies"] == {"base": "^2.0.0"}
    assert manifest["registries"] == {"registry": str(registry)}


def test_remove_leaves_no_trace(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "base@^1", "--registry", registry, cwd=project)
    cli("install", "app@^1", cwd=project)
    result = cli("remove", "app", cwd=project)
    assert result.exit_code == 0, result.output
    assert "- app 1.0.0" in result.stdout
    assert not (project / ".claude/skills/app").exists()
    assert (project / ".claude/skills/base").is_dir()  # still a direct dependency
    cli("remove", "base", cwd=project)
    assert not (project / ".claude").exists()
    assert "base" not in (project / "skills.yaml").read_text()
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert lock["packages"] == []


def test_remove_drops_dependencies_nothing_else_needs(
    cli: Cli, project: Path, registry: Path
) -> None:
    cli("install", "app@^1", "--registry", registry, cwd=project)
    cli("remove", "app", cwd=project)
    assert not (project / ".claude").exists()
    assert yaml.safe_load((project / "skills.lock").read_text())["packages"] == []


def test_remove_keeps_user_comments(cli: Cli, project: Path, registry: Path) -> None:
    (project / "skills.yaml").write_text(
        f"# my team's skills\nregistries:\n  r: {registry}  # local\n"
        "dependencies:\n  base: ^1  # keep me\n  app: ^1\n"
    )
    assert cli("install", cwd=project).exit_code == 0
    cli("remove", "app", cwd=project)
    assert (project / "skills.yaml").read_text() == (
        f"# my team's skills\nregistries:\n  r: {registry}  # local\n"
        "dependencies:\n  base: ^1  # keep me\n"
    )


def test_typo_gets_did_you_mean(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "bsae", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert "did you mean base?" in result.stderr
    assert "Traceback" not in result.output
    assert list(project.iterdir()) == []


def test_conflict_is_explained(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "base@~1.4", "--registry", registry, cwd=project)
    before = snapshot(project)
    result = cli("install", "app@^2", cwd=project)
    assert result.exit_code == 1
    assert "app 2.0.0 needs base ^2" in result.stderr
    assert "skills.yaml requires base ~1.4" in result.stderr
    assert snapshot(project) == before


def test_unmanaged_skill_folder_is_not_clobbered(cli: Cli, project: Path, registry: Path) -> None:
    mine = project / ".claude/skills/base/SKILL.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own skill\n")
    before = snapshot(project)
    result = cli("install", "base", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert ".claude/skills/base exists and was not installed by skillpm" in result.stderr
    assert snapshot(project) == before
    forced = cli("install", "base", "--registry", registry, "--force", cwd=project)
    assert forced.exit_code == 0, forced.output
    assert "my own skill" not in mine.read_text()


def test_locally_edited_skill_is_not_overwritten(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "base@~1.0", "--registry", registry, cwd=project)
    skill = project / ".claude/skills/base/SKILL.md"
    skill.write_text(skill.read_text() + "\nmy local note\n")
    before = snapshot(project)
    result = cli("install", "base@^2", cwd=project)
    assert result.exit_code == 1
    assert "was edited since it was installed" in result.stderr
    assert snapshot(project) == before
    assert cli("remove", "base", cwd=project).exit_code == 1
    assert snapshot(project) == before
    assert cli("remove", "base", "--force", cwd=project).exit_code == 0
    assert not skill.exists()


def test_frozen_fails_without_lock_or_when_stale(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 1 and "--frozen needs skills.lock" in result.stderr
    cli("install", "base", "--registry", registry, cwd=project)
    manifest = project / "skills.yaml"
    manifest.write_text(manifest.read_text().replace("^2.0.0", "^1"))
    before = snapshot(project)
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 1
    assert "out of date with skills.yaml" in result.stderr
    assert snapshot(project) == before


def test_frozen_refuses_new_packages(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "base", "--frozen", "--registry", registry, cwd=project)
    assert result.exit_code == 1 and "cannot add packages" in result.stderr


def test_tampered_registry_fails_integrity(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "base", "--registry", registry, cwd=project)
    import shutil

    shutil.rmtree(project / ".claude/skills")
    before = snapshot(project)
    tampered = registry / "packages/base/2.0.0/skills/base/SKILL.md"
    tampered.write_text(tampered.read_text() + "\nrm -rf / # injected\n")
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 1
    assert "integrity check failed for base 2.0.0" in result.stderr
    assert snapshot(project) == before
    assert not (project / ".claude").exists()


def test_dry_run_changes_nothing(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "app", "--registry", registry, "--dry-run", cwd=project)
    assert result.exit_code == 0, result.output
    assert "+ app 2.0.0" in result.stdout and "+ base 2.0.0" in result.stdout
    assert list(project.iterdir()) == []


def test_yanked_versions_skipped_unless_locked(cli: Cli, project: Path, registry: Path) -> None:
    import json

    cli("install", "base@^1", "--registry", registry, cwd=project)
    index_path = registry / "index.json"
    index = json.loads(index_path.read_text())
    index["packages"]["base"]["versions"]["1.4.0"]["yanked"] = True
    index_path.write_text(json.dumps(index))
    import shutil

    shutil.rmtree(project / ".claude")
    assert cli("install", "--frozen", cwd=project).exit_code == 0  # the lock still installs it
    other = project.parent / "other"
    other.mkdir()
    cli("install", "base@^1", "--registry", registry, cwd=other)
    assert yaml.safe_load((other / "skills.lock").read_text())["packages"][0]["version"] == "1.0.0"


def test_nothing_to_do_without_manifest(cli: Cli, project: Path) -> None:
    result = cli("install", cwd=project)
    assert result.exit_code == 0
    assert "Nothing to do" in result.stdout
    assert list(project.iterdir()) == []


def test_two_packages_providing_one_skill_are_refused(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    registry = make_registry(
        tmp_path / "dup",
        [
            {"name": "one", "skills": {"shared-skill": ""}},
            {"name": "two", "skills": {"shared-skill": ""}},
        ],
    )
    cli("install", "one", "--registry", registry, cwd=project)
    before = snapshot(project)
    result = cli("install", "two", cwd=project)
    assert result.exit_code == 1
    assert (
        f"skill 'shared-skill' is provided by both one 1.0.0 (registry {registry}) and two "
        f"1.0.0 (registry {registry})"
    ) in result.stderr
    assert snapshot(project) == before


def test_bad_spec_and_bad_manifest(cli: Cli, project: Path) -> None:
    result = cli("install", "Bad_Name", cwd=project)
    assert result.exit_code == 1 and "must be 1-64 characters" in result.stderr
    result = cli("install", "base@^^1", cwd=project)
    assert result.exit_code == 1 and "not a valid version range" in result.stderr
    (project / "skills.yaml").write_text("dependencies: [oops\n")
    result = cli("install", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: skills.yaml:") and "invalid YAML" in result.stderr


def test_unquoted_decimal_range_is_refused(cli: Cli, project: Path, registry: Path) -> None:
    (project / "skills.yaml").write_text(
        f"registries:\n  r: {registry}\ndependencies:\n  base: 1.10\n"
    )
    before = snapshot(project)
    result = cli("install", cwd=project)
    assert result.exit_code == 1
    assert "quote the version range ('1.1' is read as a number)" in result.stderr
    assert snapshot(project) == before


def test_missing_project_folder_is_refused(cli: Cli, tmp_path: Path) -> None:
    result = cli("-C", tmp_path / "nope", "install", "base")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "nope").exists()


def test_manifest_that_is_a_folder_is_a_clear_error(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").mkdir()
    result = cli("install", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: skills.yaml: cannot read")


def test_search_skips_a_broken_registry(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text("registries:\n  gone: ../no-such-registry\n")
    result = cli("search", "cdk", cwd=project)
    assert result.exit_code == 0
    assert "cdk-patterns" in result.stdout
    assert "skipped in search: registry gone" in result.stderr
