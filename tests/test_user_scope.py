"""User scope (-g): ~/.claude/skills, manifest and lock in the config dir, never the cwd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, make_registry, run_skillpm, snapshot


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # -g refuses -C, so these tests run from inside the (empty) project folder.
    monkeypatch.chdir(project)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "reg",
        [
            {"name": "personal-notes", "skills": {"notes": ""}},
            {"name": "team-notes", "skills": {"notes": "", "team-only": ""}},
        ],
    )


def home() -> Path:
    return Path(os.environ["HOME"])


def config() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "skillpm"


def test_install_g_writes_only_the_user_folders(cli: Cli, project: Path, registry: Path) -> None:
    result = run_skillpm("install", "-g", "personal-notes", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    assert list(project.iterdir()) == []
    assert (home() / ".claude/skills/notes/SKILL.md").is_file()
    lock = yaml.safe_load((config() / "skills.lock").read_text())
    assert [p["name"] for p in lock["packages"]] == ["personal-notes"]
    assert "personal-notes" in (config() / "skills.yaml").read_text()

    listed = cli("list", "-g")
    assert listed.exit_code == 0, listed.output
    assert "personal-notes" in listed.stdout and "notes" in listed.stdout
    assert "No packages installed" in cli("list", cwd=project).stdout

    removed = cli("remove", "-g", "personal-notes")
    assert removed.exit_code == 0, removed.output
    assert not (home() / ".claude/skills/notes").exists()
    assert list(project.iterdir()) == []


def test_config_dir_override(
    cli: Cli, project: Path, registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLPM_CONFIG_DIR", str(tmp_path / "cfg"))
    result = cli("install", "-g", "personal-notes", "--registry", registry)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cfg/skills.lock").is_file()
    assert not config().exists()


def test_list_warns_when_a_personal_skill_shadows_the_project(
    cli: Cli, project: Path, registry: Path
) -> None:
    assert cli("install", "-g", "personal-notes", "--registry", registry).exit_code == 0
    assert cli("install", "team-notes", "--registry", registry, cwd=project).exit_code == 0
    result = cli("list", cwd=project)
    assert result.exit_code == 0
    assert "skill notes is also in your user scope" in result.stderr
    assert "Claude Code uses the personal one" in result.stderr
    assert "team-only" not in result.stderr
    data = cli("list", "--json", cwd=project)
    assert '"shadowed": [\n    "notes"\n  ]' in data.stdout or '"shadowed": ["notes"]' in (
        data.stdout
    )


def test_g_and_project_folder_exclude_each_other(cli: Cli, project: Path) -> None:
    result = cli("install", "-g", "x", cwd=project)  # cwd= passes -C
    assert result.exit_code == 2
    assert "-g (user scope) and -C (a project folder) exclude each other" in result.output


def test_user_scope_refuses_project_only_placements(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    from tests.helpers import fragment_md

    registry = make_registry(
        tmp_path / "frag",
        [{"name": "house-rules", "skills": {}, "fragments": {"house": fragment_md("house", "Hi")}}],
    )
    config().mkdir(parents=True)
    (config() / "skills.yaml").write_text("claude-md:\n  placement: rules\n")
    before = snapshot(home() / ".claude") if (home() / ".claude").exists() else {}
    result = cli("install", "-g", "house-rules", "--registry", registry)
    assert result.exit_code == 1
    assert "placement rules is for projects" in result.stderr
    after = snapshot(home() / ".claude") if (home() / ".claude").exists() else {}
    assert after == before

    (config() / "skills.yaml").write_text("")
    ok = cli("install", "-g", "house-rules", "--registry", registry)
    assert ok.exit_code == 0, ok.output
    assert "skillpm:begin house" in (home() / ".claude/CLAUDE.md").read_text()
    assert list(project.iterdir()) == []


def test_user_scope_refuses_settings_pieces(cli: Cli, project: Path) -> None:
    result = cli("install", "-g", "claudeignore-defaults")
    assert result.exit_code == 1
    assert "settings and .claudeignore pieces are for projects" in result.stderr
    claude = home() / ".claude"
    assert not claude.exists() or snapshot(claude) == {}
    assert list(project.iterdir()) == []


def test_outdated_update_diff_and_sync_work_on_the_user_scope(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    from tests.helpers import fragment_md, make_package, publish_to

    team = fragment_md("team", "Team: {{ vars.team }}\n")
    registry = make_registry(
        tmp_path / "kit-reg", [{"name": "kit", "skills": {"kit": ""}, "fragments": {"team": team}}]
    )
    config().mkdir(parents=True)
    (config() / "skills.yaml").write_text("vars:\n  team: red\n")
    assert cli("install", "-g", "kit", "--registry", registry).exit_code == 0
    claude_md = home() / ".claude/CLAUDE.md"
    assert "Team: red" in claude_md.read_text()

    publish_to(registry, make_package(tmp_path / "src", "kit", "1.1.0"))
    outdated = cli("outdated", "-g", "--json")
    assert outdated.exit_code == 0, outdated.output
    assert '"latest": "1.1.0"' in outdated.stdout
    updated = cli("update", "-g")
    assert updated.exit_code == 0, updated.output
    assert "kit 1.1.0" in updated.stdout
    assert "version: 1.1.0" in (config() / "skills.lock").read_text()

    publish_to(registry, make_package(tmp_path / "src2", "kit", "1.2.0", fragments={"team": team}))
    assert cli("update", "-g").exit_code == 0
    (config() / "skills.yaml").write_text(
        (config() / "skills.yaml").read_text().replace("team: red", "team: blue")
    )
    shown = cli("diff", "-g")
    assert shown.exit_code == 0, shown.output
    assert "+Team: blue" in shown.stdout and "Team: red" in claude_md.read_text()
    synced = cli("sync", "-g")
    assert synced.exit_code == 0, synced.output
    assert "Team: blue" in claude_md.read_text()
    assert list(project.iterdir()) == []  # the current folder is never written


def test_doctor_says_it_checks_projects_only(cli: Cli) -> None:
    assert "project folder only" in cli("doctor", "--help").stdout
    refused = cli("doctor", "-g")
    assert refused.exit_code == 2
    assert "no such option '-g'" in refused.stderr
