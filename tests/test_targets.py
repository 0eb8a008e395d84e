"""targets: .claude/skills + CLAUDE.md, .agents/skills + AGENTS.md, or both (--agent)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import Cli, fragment_md, make_registry, snapshot


def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "reg",
        [
            {
                "name": "team-kit",
                "skills": {"deploy": "Deploy steps."},
                "fragments": {"team-rules": fragment_md("team-rules", "Be careful.\n")},
            }
        ],
    )


def test_agent_installs_beside_claude_and_dropping_a_target_cleans_up(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    result = cli("install", "--agent", "team-kit", "--registry", reg, cwd=project)
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load((project / "skills.yaml").read_text())
    assert manifest["targets"] == ["claude", "agents"]
    claude = snapshot(project / ".claude/skills")
    assert claude == snapshot(project / ".agents/skills")
    assert "deploy/SKILL.md" in claude
    assert "skillpm:begin team-rules" in (project / "CLAUDE.md").read_text()
    assert "skillpm:begin team-rules" in (project / "AGENTS.md").read_text()
    again = cli("install", cwd=project)
    assert "Nothing to do" in again.stdout

    text = (project / "skills.yaml").read_text().replace("[claude, agents]", "[agents]")
    (project / "skills.yaml").write_text(text)
    only = cli("install", cwd=project)
    assert only.exit_code == 0, only.output
    assert not (project / ".claude").exists()
    assert not (project / "CLAUDE.md").exists()
    assert (project / ".agents/skills/deploy/SKILL.md").is_file()
    assert "skillpm:begin team-rules" in (project / "AGENTS.md").read_text()

    removed = cli("remove", "team-kit", cwd=project)
    assert removed.exit_code == 0, removed.output
    assert sorted(p.name for p in project.iterdir()) == ["skills.lock", "skills.yaml"]


def test_an_edited_copy_in_the_other_target_is_refused(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    assert cli("install", "--agent", "team-kit", "--registry", reg, cwd=project).exit_code == 0
    (project / ".agents/skills/deploy/SKILL.md").write_text("mine\n")
    before = snapshot(project)
    result = cli("remove", "team-kit", cwd=project)
    assert result.exit_code == 1
    assert "was edited since it was installed" in result.stderr
    assert snapshot(project) == before


def test_claude_md_linked_to_agents_md_gets_one_set_of_blocks(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    (project / "AGENTS.md").write_text("# Our agents file\n")
    (project / "CLAUDE.md").symlink_to("AGENTS.md")
    reg = registry(tmp_path)
    result = cli("install", "--agent", "team-kit", "--registry", reg, cwd=project)
    assert result.exit_code == 0, result.output
    text = (project / "AGENTS.md").read_text()
    assert text.startswith("# Our agents file\n")
    assert text.count("skillpm:begin team-rules") == 1
    assert (project / "CLAUDE.md").is_symlink()


def test_bad_targets_setting(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text("targets: [cursor]\n")
    before = snapshot(project)
    result = cli("install", "cdk-patterns", cwd=project)
    assert result.exit_code == 1
    assert "targets: unknown target 'cursor' (known: claude, agents)" in result.stderr
    assert snapshot(project) == before
