"""``skillpm registry add / remove / list``: skills.yaml edited with comments kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Cli, make_git_registry, snapshot

COMMENTED = """\
# our team's skills
registries:
  local: ../shared-skills  # the monorepo copy

dependencies:
  base: ^1.0   # keep on 1.x
"""


def test_add_keeps_comments_and_order(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text(COMMENTED)
    result = cli(
        "registry", "add", "team", "git@github.com:acme/skills.git#v2", "--offline", cwd=project
    )
    assert result.exit_code == 0, result.output
    assert "Added registry team" in result.stdout
    assert (project / "skills.yaml").read_text() == COMMENTED.replace(
        "  local: ../shared-skills  # the monorepo copy\n",
        "  local: ../shared-skills  # the monorepo copy\n"
        "  team: git@github.com:acme/skills.git#v2\n",
    )


def test_add_creates_skills_yaml(cli: Cli, project: Path) -> None:
    result = cli(
        "registry", "add", "team", "git+https://example.com/acme/r.git", "--offline", cwd=project
    )
    assert result.exit_code == 0, result.output
    listing = cli("registry", "list", "--json", cwd=project)
    assert json.loads(listing.stdout)["registries"] == [
        {"name": "team", "url": "git+https://example.com/acme/r.git", "kind": "git"},
        {"name": "builtin", "url": "builtin", "kind": "builtin"},
    ]


def test_remove_keeps_comments(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text(COMMENTED)
    cli("registry", "add", "team", "git+https://example.com/acme/r.git", "--offline", cwd=project)
    result = cli("registry", "remove", "team", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "skills.yaml").read_text() == COMMENTED


def test_list_redacts_credentials(cli: Cli, project: Path) -> None:
    cli(
        "registry",
        "add",
        "team",
        "git+https://bot:hunter2@example.com/r.git",
        "--offline",
        cwd=project,
    )
    cli("registry", "add", "local", "../skills", "--offline", cwd=project)
    result = cli("registry", "list", cwd=project)
    assert result.exit_code == 0
    assert "hunter2" not in result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["team", "git", "git+https://***@example.com/r.git"]
    assert lines[1].split() == ["local", "local", "../skills"]
    assert lines[2].startswith("builtin")


def test_remove_says_which_locked_packages_came_from_it(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    remote = make_git_registry(tmp_path / "server", [{"name": "base", "version": "1.0.0"}])
    cli("install", "base", "--registry", remote.url, cwd=project)
    result = cli("registry", "remove", "registry", cwd=project)
    assert result.exit_code == 0, result.output
    assert "1 installed package comes from it (base)" in result.stdout


def _refused(cli: Cli, project: Path, *args: str) -> str:
    before = snapshot(project)
    result = cli("registry", *args, cwd=project)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert snapshot(project) == before
    return result.stderr


def test_add_refuses_a_taken_name_or_url(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text(COMMENTED)
    assert "already has a registry named local" in _refused(cli, project, "add", "local", "../x")
    assert "already lists ../shared-skills as local" in _refused(
        cli, project, "add", "other", "../shared-skills"
    )
    assert "built-in registry's name" in _refused(cli, project, "add", "builtin", "../x")
    assert "registry name 'Team!'" in _refused(cli, project, "add", "Team!", "../x")


def test_add_refuses_a_malformed_git_url(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text(COMMENTED)
    assert "unsupported git URL" in _refused(cli, project, "add", "t", "git+ftp://h/r.git")


def test_remove_refuses_unknown_or_used(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text(COMMENTED + "  tool: {version: ^1, registry: local}\n")
    assert "no registry named 'locl' in skills.yaml; did you mean local?" in _refused(
        cli, project, "remove", "locl"
    )
    assert "tool in skills.yaml dependencies name registry local" in _refused(
        cli, project, "remove", "local"
    )
    assert "cannot be removed" in _refused(cli, project, "remove", "builtin")


def test_add_warns_when_the_url_carries_credentials(cli: Cli, project: Path) -> None:
    result = cli(
        "registry",
        "add",
        "team",
        "https://bot:s3cret@skills.example.com/r",
        "--offline",
        cwd=project,
    )
    assert result.exit_code == 0, result.output
    assert "carries credentials" in result.stderr
    assert "s3cret" not in result.output
