"""Commands that said too little or the wrong thing (issue 23, items 9-15)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import (
    Cli,
    fragment_md,
    make_git_repo,
    make_package,
    make_registry,
    marketplace_json,
    publish_to,
    skill_md,
    write_tree,
)

POLICY = fragment_md("pol", "Use haiku.\n", section="Policy")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {"name": "pol", "fragments": {"pol": POLICY}},
            {"name": "app", "skills": {"app": "", "app-extra": ""}},
            {"name": "tool"},
        ],
    )


@pytest.fixture
def team(project: Path, registry: Path) -> Path:
    write_tree(project, {"skills.yaml": "registries:\n  team: ../registry\n"})
    return project


# -- 9. one notion of intact ----------------------------------------------------------------


def test_a_hand_edited_block_is_not_intact_anywhere(cli: Cli, team: Path) -> None:
    assert cli("install", "pol", cwd=team).exit_code == 0
    claude = team / "CLAUDE.md"
    claude.write_text(claude.read_text().replace("Use haiku.", "Use opus."))
    assert cli("lint", cwd=team).exit_code == 1
    doctor = cli("doctor", "--json", cwd=team)
    codes = [f["code"] for f in json.loads(doctor.stdout)["findings"]]
    assert "fragment-modified" in codes, doctor.output
    listed = json.loads(cli("list", "--json", cwd=team).stdout)
    assert [p["intact"] for p in listed["packages"]] == [False]
    assert "modified or missing" in cli("list", cwd=team).stdout


# -- 10. registry is the name from skills.yaml ---------------------------------------------


def test_registry_is_the_name_in_every_json_output(
    cli: Cli, team: Path, registry: Path, tmp_path: Path
) -> None:
    assert cli("install", "tool@~1.0", "pol", cwd=team).exit_code == 0
    publish_to(registry, make_package(tmp_path / "tool-1.1", "tool", "1.1.0"))
    listed = json.loads(cli("list", "--json", cwd=team).stdout)["packages"]
    names = {p["name"]: (p["registry"], p["registry_url"]) for p in listed}
    assert names["tool"] == ("team", "../registry")
    outdated = json.loads(cli("outdated", "--json", cwd=team).stdout)["packages"]
    assert [(p["registry"], p["registry_url"]) for p in outdated] == [("team", "../registry")]


# -- 11. every run ends with what happened -------------------------------------------------


def test_a_lock_only_change_says_so(cli: Cli, team: Path) -> None:
    assert cli("install", "tool", cwd=team).exit_code == 0
    manifest = team / "skills.yaml"
    manifest.write_text(manifest.read_text().replace("tool: ^1.0.0", "tool: '>=1.0.0'"))
    result = cli("install", cwd=team)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Updated skills.lock (no installed file changed)"


def test_a_selection_already_included_says_nothing_to_do(cli: Cli, team: Path) -> None:
    assert cli("install", "app", cwd=team).exit_code == 0
    result = cli("install", "app/app-extra", cwd=team)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Nothing to do: 1 package up to date"


def test_no_resolved_line_before_a_refusal(cli: Cli, team: Path) -> None:
    write_tree(team, {".claude/skills/tool/SKILL.md": "mine\n"})
    result = cli("install", "tool", cwd=team)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "not installed by skillpm" in result.stderr


def test_info_json_for_an_unknown_name_prints_a_document(cli: Cli, team: Path) -> None:
    result = cli("info", "tol", "--json", cwd=team)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["name"] == "tol" and "no package named 'tol'" in data["error"]
    assert result.stderr.startswith("error: no package named 'tol'")


# -- 12. registry add checks what is there --------------------------------------------------


def test_registry_add_refuses_a_url_with_nothing_there(cli: Cli, project: Path) -> None:
    for url in ("../nowhere", f"git+{(project.parent / 'nowhere.git').as_uri()}"):
        result = cli("registry", "add", "x", url, cwd=project)
        assert result.exit_code == 1, result.output
        assert result.stderr.count("\n") == 1, result.stderr
        assert not (project / "skills.yaml").exists()
    result = cli("registry", "add", "x", "../nowhere", "--offline", cwd=project)
    assert result.exit_code == 0, result.output


def test_registry_add_says_what_is_there(
    cli: Cli, project: Path, registry: Path, tmp_path: Path
) -> None:
    result = cli("registry", "add", "team", "../registry", cwd=project)
    assert result.exit_code == 0, result.output
    assert "a skillpm registry (3 packages)" in result.stdout
    market = make_git_repo(
        tmp_path / "market",
        {
            ".claude-plugin/marketplace.json": marketplace_json(
                "acme", [{"name": "docs", "source": "./plugins/docs"}]
            ),
            "plugins/docs/skills/pdf/SKILL.md": skill_md("pdf"),
        },
    )
    result = cli("registry", "add", "market", market.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert "a Claude Code plugin marketplace (1 plugin)" in result.stdout
    folders = make_git_repo(tmp_path / "folders", {"skills/pdf/SKILL.md": skill_md("pdf")})
    result = cli("registry", "add", "folders", folders.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert "a repository of skill folders (1 skill)" in result.stdout


# -- 13, 14. remove --force wording, list columns ----------------------------------------


def test_remove_force_over_an_edited_block_says_removed(cli: Cli, team: Path) -> None:
    assert cli("install", "pol", "tool", cwd=team).exit_code == 0
    claude = team / "CLAUDE.md"
    claude.write_text(claude.read_text().replace("Use haiku.", "Use opus."))
    result = cli("remove", "pol", "--force", cwd=team)
    assert result.exit_code == 0, result.output
    assert "Removed your edited pol block from CLAUDE.md (--force)" in result.stdout
    assert "Replaced" not in result.output


def test_list_columns_line_up_with_commit_versions(cli: Cli, project: Path, tmp_path: Path) -> None:
    repo = make_git_repo(
        tmp_path / "folders",
        {
            "skills/longer-name/SKILL.md": skill_md("longer-name"),
            "skills/x/SKILL.md": skill_md("x", metadata={"version": "1.0.0"}),
        },
    )
    write_tree(project, {"skills.yaml": f"registries:\n  folders: {repo.url}\n"})
    assert cli("install", "longer-name", "x", cwd=project).exit_code == 0
    lines = cli("list", cwd=project).stdout.splitlines()
    assert len({line.index("skills:") for line in lines}) == 1, lines


# -- 15. a corrupt remote is called corrupt ----------------------------------------------


def test_a_corrupt_remote_is_not_called_an_access_problem(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    repo = make_git_repo(tmp_path / "folders", {"skills/pdf/SKILL.md": skill_md("pdf")})
    for path in (repo.bare / "objects").rglob("*"):
        if path.is_file() and re.fullmatch(r"[0-9a-f]{38}", path.name):
            path.chmod(0o644)
            path.write_bytes(b"garbage")
    result = cli("install", "pdf", "--registry", repo.url, cwd=project)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "is damaged" in result.stderr and "git fsck" in result.stderr
    assert "credential" not in result.stderr


def test_registry_add_check_never_shows_credentials(cli: Cli, project: Path) -> None:
    result = cli(
        "registry", "add", "team", "git+https://bot:hunter2@127.0.0.1:9/r.git", cwd=project
    )
    assert result.exit_code == 1
    assert "hunter2" not in result.output and "***@127.0.0.1" in result.stderr
    assert not (project / "skills.yaml").exists()
