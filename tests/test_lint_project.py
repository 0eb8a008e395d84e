"""Project lint: drift of installed skills and CLAUDE.md blocks, and the context budget."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from skillpm.formats.project_files import LockedPackage, Lockfile, dump_lock
from tests.helpers import Cli, fragment_md, lint_json, make_registry, skill_md, write_tree


def rules(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule"] for f in findings]


@pytest.fixture
def installed(cli: Cli, tmp_path: Path) -> Path:
    registry = make_registry(
        tmp_path / "registry", [{"name": "cdk", "skills": {"cdk": "", "cdk-test": ""}}]
    )
    project = tmp_path / "project"
    project.mkdir()
    result = cli("install", "cdk", "--registry", str(registry), cwd=project)
    assert result.exit_code == 0, result.output
    return project


def test_a_freshly_installed_project_is_clean(cli: Cli, installed: Path) -> None:
    assert lint_json(cli, cwd=installed) == (0, [])


def test_drift001_installed_skill_edited(cli: Cli, installed: Path) -> None:
    with (installed / ".claude/skills/cdk/SKILL.md").open("a") as f:
        f.write("\nA local tweak.\n")
    code, found = lint_json(cli, cwd=installed)
    assert (code, rules(found)) == (1, ["DRIFT001"])
    assert found[0]["file"] == ".claude/skills/cdk/SKILL.md"
    assert found[0]["package"] == "cdk"
    assert "changed after cdk 1.0.0 installed it" in found[0]["message"]


def test_drift001_added_file_counts(cli: Cli, installed: Path) -> None:
    write_tree(installed, {".claude/skills/cdk/notes.md": "mine\n"})
    assert rules(lint_json(cli, cwd=installed)[1]) == ["DRIFT001"]


def test_drift002_installed_skill_missing(cli: Cli, installed: Path) -> None:
    shutil.rmtree(installed / ".claude/skills/cdk-test")
    code, found = lint_json(cli, cwd=installed)
    assert (code, rules(found)) == (0, ["DRIFT002"])
    assert found[0]["file"] == "skills.lock"
    assert "'cdk-test', which is not installed" in found[0]["message"]


def test_unmanaged_skills_are_linted_too(cli: Cli, installed: Path) -> None:
    write_tree(installed, {".claude/skills/mine/SKILL.md": skill_md("not-mine")})
    code, found = lint_json(cli, cwd=installed)
    assert (code, rules(found)) == (1, ["SPEC003"])
    assert found[0]["package"] is None


def block(name: str, content: str, *, recorded: str | None = None) -> str:
    digest = recorded or hashlib.sha256(content.encode()).hexdigest()
    return (
        f"<!-- skillpm:begin {name} 1.0.0 sha256:{digest} -->\n{content}"
        f"<!-- skillpm:end {name} -->\n"
    )


def test_drift003_not_firing_for_an_intact_block(cli: Cli, project: Path) -> None:
    content = "## AWS environment\n- Region: us-east-1\n"
    (project / "CLAUDE.md").write_text(
        "# Team\n\nOur notes.\n\n" + block("aws-environment", content)
    )
    assert lint_json(cli, cwd=project) == (0, [])


def test_drift003_crlf_checkout_is_not_an_edit(cli: Cli, project: Path) -> None:
    content = "## AWS environment\n- Region: us-east-1\n"
    text = "# Team\n\n" + block("aws-environment", content)
    (project / "CLAUDE.md").write_bytes(text.replace("\n", "\r\n").encode())
    assert lint_json(cli, cwd=project) == (0, [])


def test_drift003_edited_block(cli: Cli, project: Path) -> None:
    original = block("aws-environment", "## AWS environment\n- Region: us-east-1\n")
    edited = original.replace("us-east-1", "eu-west-1")
    (project / "CLAUDE.md").write_text("# Team\n\n" + edited)
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (1, ["DRIFT003"])
    assert (found[0]["file"], found[0]["line"]) == ("CLAUDE.md", 3)
    assert "aws-environment 1.0.0 was edited by hand" in found[0]["message"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "<!-- skillpm:begin env 1.0.0 sha256:" + "0" * 64 + " -->\n## Env\n",
            "a begin marker without its end marker for env",
        ),
        ("## Env\n<!-- skillpm:end env -->\n", "an end marker without a begin for env"),
        ("<!-- skillpm:begin env 1.0.0 -->\n## Env\n", "a malformed begin marker for env"),
    ],
)
def test_drift004_damaged_markers(cli: Cli, project: Path, text: str, words: str) -> None:
    (project / "CLAUDE.md").write_text(text)
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (1, ["DRIFT004"])
    assert words in found[0]["message"]


def test_drift005_locked_fragment_block_missing(cli: Cli, project: Path) -> None:
    lock = Lockfile(
        "sha256:" + "0" * 64,
        (
            LockedPackage(
                name="env",
                version="1.0.0",
                registry="builtin",
                integrity="sha256:" + "1" * 64,
                fragment_hashes={"aws-environment": "sha256:" + "2" * 64},
            ),
        ),
    )
    (project / "skills.lock").write_bytes(dump_lock(lock))
    (project / "CLAUDE.md").write_text("# Team\n")
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (0, ["DRIFT005"])
    assert "fragment 'aws-environment'" in found[0]["message"]


def test_budget001_long_claude_md(cli: Cli, project: Path) -> None:
    (project / "CLAUDE.md").write_text("".join(f"- rule {i}\n" for i in range(201)))
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (0, ["BUDGET001"])
    assert "201 lines" in found[0]["message"]


def test_budget001_not_firing_at_200_lines(cli: Cli, project: Path) -> None:
    (project / "CLAUDE.md").write_text("".join(f"- rule {i}\n" for i in range(200)))
    assert lint_json(cli, cwd=project) == (0, [])


def many_skills(root: Path, count: int, hidden: int = 0) -> None:
    for i in range(count):
        name = f"skill-{i}"
        description = f"Skill {i} does things. Use when task {i} comes up. " + "x" * 950
        extra = {"disable-model-invocation": True} if i < hidden else {}
        write_tree(root, {f"{name}/SKILL.md": skill_md(name, description, **extra)})


def test_budget002_descriptions_add_up(cli: Cli, tmp_path: Path) -> None:
    many_skills(tmp_path / "skills", 9)
    folders = [f"skills/skill-{i}" for i in range(9)]  # given together: one context
    code, found = lint_json(cli, *folders, cwd=tmp_path)
    assert (code, rules(found)) == (0, ["BUDGET002"])
    assert "descriptions of 9 skills total" in found[0]["message"]


def test_budget002_not_over_a_catalog_of_skills(cli: Cli, tmp_path: Path) -> None:
    # A repository of skills offers them one by one; nobody installs them all at once.
    many_skills(tmp_path / "skills", 9)
    assert lint_json(cli, "skills", cwd=tmp_path) == (0, [])


def test_budget002_skills_hidden_from_the_model_do_not_count(cli: Cli, tmp_path: Path) -> None:
    many_skills(tmp_path / "skills", 9, hidden=2)
    folders = [f"skills/skill-{i}" for i in range(9)]
    assert lint_json(cli, *folders, cwd=tmp_path) == (0, [])


def test_budget002_counts_installed_skills(cli: Cli, project: Path) -> None:
    many_skills(project / ".claude/skills", 9)
    assert rules(lint_json(cli, cwd=project)[1]) == ["BUDGET002"]


def test_git_registry_fragments_come_from_the_cache_never_the_network(
    cli: Cli, tmp_path: Path
) -> None:
    from tests.helpers import fragment_md, make_git_registry

    claims = {"aws.region": "us-west-2"}
    remote = make_git_registry(
        tmp_path / "server",
        [{"name": "env", "skills": {}, "fragments": {"env": fragment_md("env", claims=claims)}}],
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "skills.yaml").write_text("vars:\n  aws: {region: us-east-1}\n")
    assert cli("install", "env", "--registry", remote.url, cwd=project).exit_code == 0
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (1, ["CONFLICT005"])  # read from the fetched copy
    import os

    shutil.rmtree(Path(os.environ["SKILLPM_CACHE_DIR"]))
    code, found = lint_json(cli, cwd=project)  # no cache: lint does not fetch
    assert (code, rules(found)) == (0, ["CONFLICT006"])


@pytest.fixture
def both_targets(cli: Cli, tmp_path: Path) -> Path:
    """A package with a skill and a fragment, installed for Claude Code and other agents."""
    registry = make_registry(
        tmp_path / "registry",
        [
            {
                "name": "kit",
                "skills": {"deploy": ""},
                "fragments": {"team-rules": fragment_md("team-rules", "Be careful.\n")},
            }
        ],
    )
    project = tmp_path / "project"
    project.mkdir()
    result = cli("install", "--agent", "kit", "--registry", str(registry), cwd=project)
    assert result.exit_code == 0, result.output
    assert lint_json(cli, cwd=project) == (0, [])
    return project


def test_drift_checks_the_agents_copy_of_a_skill(cli: Cli, both_targets: Path) -> None:
    with (both_targets / ".agents/skills/deploy/SKILL.md").open("a") as f:
        f.write("\nA local tweak.\n")
    code, found = lint_json(cli, cwd=both_targets)
    assert (code, rules(found)) == (1, ["DRIFT001"])
    assert found[0]["file"] == ".agents/skills/deploy"
    assert ".agents/skills/deploy was changed after kit 1.0.0" in found[0]["message"]
    shutil.rmtree(both_targets / ".agents/skills/deploy")
    code, found = lint_json(cli, cwd=both_targets)
    assert (code, rules(found)) == (0, ["DRIFT002"])
    assert "which is not installed in .agents/skills" in found[0]["message"]


def test_drift_checks_blocks_in_agents_md(cli: Cli, both_targets: Path) -> None:
    agents_md = both_targets / "AGENTS.md"
    agents_md.write_text(agents_md.read_text().replace("Be careful.", "Be bold."))
    code, found = lint_json(cli, cwd=both_targets)
    assert (code, rules(found)) == (1, ["DRIFT003"])
    assert found[0]["file"] == "AGENTS.md"


def test_skills_of_an_agents_only_project_are_linted(cli: Cli, project: Path) -> None:
    (project / "skills.yaml").write_text("targets: [agents]\n")
    write_tree(project, {".agents/skills/mine/SKILL.md": skill_md("not-mine")})
    code, found = lint_json(cli, cwd=project)
    assert (code, rules(found)) == (1, ["SPEC003"])
    assert found[0]["file"] == ".agents/skills/mine/SKILL.md"


def test_a_link_in_an_installed_skill_is_drift_not_a_crash(cli: Cli, installed: Path) -> None:
    (installed / ".claude/skills/cdk/link.md").symlink_to("SKILL.md")
    code, found = lint_json(cli, cwd=installed)
    assert code == 1
    assert sorted(rules(found)) == ["DRIFT001", "SAFETY008"]
