"""Placement modes, hand edits and the error paths of fragments, through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import SRC, Cli, fragment_md, make_registry, snapshot

RULE = fragment_md(
    "api-rules", "Validate input at the edge.\n", section="API rules", order=5, paths=["src/*.ts"]
)
TEAM = fragment_md("team", "Team: {{ vars.team }}\n", section="Team", order=1)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {"name": "api-rules", "skills": {}, "fragments": {"api-rules": RULE}},
            {"name": "team", "fragments": {"team": TEAM}},  # a skill and a fragment
            {"name": "team-copy", "skills": {}, "fragments": {"team": TEAM}},
        ],
    )


def _setup(project: Path, placement: str | None = None) -> None:
    text = "vars:\n  team: platform\n"
    if placement:
        text += f"claude-md:\n  placement: {placement}\n"
    (project / "skills.yaml").write_text(text)


def _set_placement(project: Path, placement: str) -> None:
    text = (project / "skills.yaml").read_text()
    data = yaml.safe_load(text)
    data["claude-md"] = {"placement": placement}
    (project / "skills.yaml").write_text(yaml.safe_dump(data))


def test_import_placement_writes_files_and_one_import_block(
    cli: Cli, project: Path, registry: Path
) -> None:
    _setup(project, "import")
    (project / "CLAUDE.md").write_text("# Ours\n")
    result = cli("install", "team", "api-rules", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    claude = (project / "CLAUDE.md").read_text()
    assert claude.startswith("# Ours\n\n<!-- skillpm:begin skillpm-imports 1 sha256:")
    assert "@.claude/skillpm/team.md\n@.claude/skillpm/api-rules.md\n" in claude
    team = (project / ".claude/skillpm/team.md").read_text()
    assert "## Team\n\nTeam: platform\n" in team
    assert (project / ".claude/skills/team/SKILL.md").is_file()
    before = snapshot(project)
    assert "Nothing to do" in cli("install", cwd=project).stdout
    assert snapshot(project) == before


def test_rules_placement_uses_paths_frontmatter(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project, "rules")
    result = cli("install", "api-rules", "team", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    assert not (project / "CLAUDE.md").exists()
    rule = (project / ".claude/rules/api-rules.md").read_text()
    assert rule.startswith('---\npaths:\n  - "src/*.ts"\n---\n<!-- skillpm:begin api-rules')
    assert (project / ".claude/rules/team.md").read_text().startswith("<!-- skillpm:begin team")


def test_switching_placement_moves_fragments_and_removal_restores(
    cli: Cli, project: Path, registry: Path
) -> None:
    _setup(project)
    (project / "CLAUDE.md").write_bytes(b"\xef\xbb\xbf# BOM and CRLF\r\nnotes\r\n")
    original = snapshot(project)
    assert cli("install", "api-rules", "--registry", registry, cwd=project).exit_code == 0
    assert cli("install", "team", cwd=project).exit_code == 0
    for placement in ("import", "rules", "inline", "rules"):
        _set_placement(project, placement)
        result = cli("sync", cwd=project)
        assert result.exit_code == 0, result.output
        files = set(snapshot(project))
        assert (".claude/skillpm/team.md" in files) == (placement == "import")
        assert (".claude/rules/team.md" in files) == (placement == "rules")
        claude = (project / "CLAUDE.md").read_bytes()
        assert claude.startswith(b"\xef\xbb\xbf# BOM and CRLF\r\nnotes\r\n")
        assert (b"skillpm:begin team " in claude) == (placement == "inline")
    result = cli("remove", "api-rules", "team", cwd=project)
    assert result.exit_code == 0, result.output
    after = snapshot(project)
    assert after["CLAUDE.md"] == original["CLAUDE.md"]
    assert not (project / ".claude").exists()


def test_unknown_placement_is_refused(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project, "sideways")
    before = snapshot(project)
    result = cli("install", "team", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: skills.yaml: claude-md.placement must be inline, import or rules, not 'sideways'"
    )
    assert snapshot(project) == before


def test_unmanaged_rules_file_is_not_clobbered(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project, "rules")
    (project / ".claude/rules").mkdir(parents=True)
    (project / ".claude/rules/team.md").write_text("our own rule\n")
    before = snapshot(project)
    result = cli("install", "team", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert "error: .claude/rules/team.md exists and was not written by skillpm" in result.stderr
    assert snapshot(project) == before
    assert cli("install", "team", "--force", "--registry", registry, cwd=project).exit_code == 0
    assert "Team: platform" in (project / ".claude/rules/team.md").read_text()


def test_removing_an_edited_block_is_refused_unless_forced(
    cli: Cli, project: Path, registry: Path
) -> None:
    _setup(project)
    cli("install", "team", "--registry", registry, cwd=project)
    claude = project / "CLAUDE.md"
    claude.write_text(claude.read_text().replace("Team: platform", "Team: platform (on call)"))
    before = snapshot(project)
    result = cli("remove", "team", cwd=project)
    assert result.exit_code == 1
    assert "the team block was edited by hand and skillpm needs to remove it" in result.stderr
    assert "-Team: platform (on call)" in result.stderr
    assert snapshot(project) == before
    result = cli("remove", "team", "--force", cwd=project)
    assert result.exit_code == 0, result.output
    assert not claude.exists()


def test_a_deleted_block_is_put_back_by_install(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project)
    (project / "CLAUDE.md").write_text("mine\n")
    cli("install", "team", "--registry", registry, cwd=project)
    full = (project / "CLAUDE.md").read_text()
    (project / "CLAUDE.md").write_text("mine\n")
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "CLAUDE.md").read_text() == full


def test_damaged_markers_are_refused_with_the_line(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project)
    cli("install", "team", "--registry", registry, cwd=project)
    claude = project / "CLAUDE.md"
    claude.write_text(claude.read_text().replace("<!-- skillpm:end team -->\n", ""))
    before = snapshot(project)
    result = cli("sync", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: CLAUDE.md:1: a begin marker without its end marker for team; restore"
    )
    assert snapshot(project) == before


def test_two_packages_with_one_fragment_name_conflict(
    cli: Cli, project: Path, registry: Path
) -> None:
    _setup(project)
    cli("install", "team", "--registry", registry, cwd=project)
    before = snapshot(project)
    result = cli("install", "team-copy", cwd=project)
    assert result.exit_code == 1
    assert "fragment 'team' is provided by both team and team-copy" in result.stderr
    assert snapshot(project) == before


def test_template_errors_stop_the_install(cli: Cli, project: Path, tmp_path: Path) -> None:
    broken = fragment_md("broken", "ok\n{% if %}\n")
    registry = make_registry(
        tmp_path / "reg2", [{"name": "broken", "skills": {}, "fragments": {"broken": broken}}]
    )
    before = snapshot(project)
    result = cli("install", "broken", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert "broken 1.0.0: fragments/broken.md:6: template syntax error" in result.stderr
    assert snapshot(project) == before


def test_dry_run_and_diff_write_nothing(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project)
    cli("install", "team", "--registry", registry, cwd=project)
    manifest = project / "skills.yaml"
    manifest.write_text(manifest.read_text().replace("team: platform", "team: payments"))
    before = snapshot(project)
    result = cli("install", "--dry-run", cwd=project)
    assert result.exit_code == 0, result.output
    assert " ~ CLAUDE.md" in result.stdout
    result = cli("diff", cwd=project)
    assert "-Team: platform" in result.stdout and "+Team: payments" in result.stdout
    assert snapshot(project) == before


def test_lock_without_fragment_hashes_gets_them(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project)
    cli("install", "team", "--registry", registry, cwd=project)
    lock = project / "skills.lock"
    text = lock.read_text()
    kept = [ln for ln in text.splitlines() if "fragment-hashes" not in ln and "team: sha" not in ln]
    lock.write_text("\n".join(kept) + "\n")
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    assert lock.read_text() == text


def test_no_op_install_and_help_never_import_jinja2(
    cli: Cli, project: Path, registry: Path
) -> None:
    _setup(project)
    assert cli("install", "team", "--registry", registry, cwd=project).exit_code == 0
    probe = (
        "import sys\n"
        "from skillpm.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print('jinja2' in sys.modules, 'ruamel' in sys.modules)\n"
    )
    for args in (["install"], ["--help"], ["list"]):
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=project,
            env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HOME": str(project.parent)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert proc.stdout.strip().splitlines()[-1] == "False False", (args, proc.stdout)


def test_a_linked_claude_md_stays_a_link(cli: Cli, project: Path, registry: Path) -> None:
    _setup(project)
    (project / "AGENTS.md").write_text("# Agents\n")
    (project / "CLAUDE.md").symlink_to("AGENTS.md")
    result = cli("install", "team", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    assert "Updated AGENTS.md" in result.stdout
    assert (project / "CLAUDE.md").is_symlink()
    assert "Team: platform" in (project / "AGENTS.md").read_text()
    assert cli("remove", "team", cwd=project).exit_code == 0
    assert (project / "CLAUDE.md").is_symlink()
    assert (project / "AGENTS.md").read_text() == "# Agents\n"


def test_a_claude_md_linked_outside_the_project_is_refused(
    cli: Cli, project: Path, registry: Path, tmp_path: Path
) -> None:
    _setup(project)
    (tmp_path / "shared.md").write_text("# Shared\n")
    (project / "CLAUDE.md").symlink_to(tmp_path / "shared.md")
    before = snapshot(project)
    result = cli("install", "team", "--registry", registry, cwd=project)
    assert result.exit_code == 1
    assert "error: CLAUDE.md links to" in result.stderr and "outside the project" in result.stderr
    assert snapshot(project) == before
    assert (tmp_path / "shared.md").read_text() == "# Shared\n"


@pytest.mark.parametrize("placement", ["inline", "import", "rules"])
def test_remove_needs_no_registry_and_leaves_the_other_blocks(
    cli: Cli, tmp_path: Path, placement: str
) -> None:
    import shutil

    frags = {n: fragment_md(n, f"{n} body\n", section=n, order=o) for n, o in
             [("first", 1), ("middle", 2), ("last", 3)]}  # fmt: skip
    registry = make_registry(
        tmp_path / "reg3",
        [{"name": n, "skills": {}, "fragments": {n: t}} for n, t in frags.items()],
    )
    expected = {}
    for label, names in (("two", ["first", "middle"]), ("three", ["first", "middle", "last"])):
        project = tmp_path / label
        project.mkdir()
        _setup(project, placement)
        (project / "CLAUDE.md").write_text("# Mine\n")
        assert cli("install", *names, "--registry", registry, cwd=project).exit_code == 0
        expected[label] = snapshot(project)
    project = tmp_path / "three"
    claude = project / "CLAUDE.md"
    if placement == "inline":  # a hand edit in a block that stays is not touched
        claude.write_text(claude.read_text().replace("middle body", "middle body, edited"))
    shutil.rmtree(registry)
    result = cli("remove", "last", cwd=project)
    assert result.exit_code == 0, result.output
    after = snapshot(project)
    if placement == "inline":
        after["CLAUDE.md"] = after["CLAUDE.md"].replace(b"middle body, edited", b"middle body")
    assert {k: v for k, v in after.items() if k != "skills.yaml"} == {
        k: v for k, v in expected["two"].items() if k != "skills.yaml"
    }
