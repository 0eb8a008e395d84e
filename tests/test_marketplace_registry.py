"""Claude Code plugin marketplaces and plain skill repositories as git registries.

The fixtures follow the documented marketplace format and the layouts of real
public marketplaces (a ``./`` source with ``strict: false`` and a ``skills`` list
like anthropics/skills; ``./plugins/<name>`` folders with ``plugin.json`` like
anthropics/claude-code), served from bare repositories over file://.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, GitRepo, make_git_repo, marketplace_json, skill_md, snapshot

PLUGINS = [
    {
        "name": "aws-tools",
        "source": "./plugins/aws-tools",
        "version": "1.2.0",
        "description": "CDK and Lambda skills",
    },
    # anthropics/skills style: the repository root is the plugin, skills listed.
    {
        "name": "document-skills",
        "description": "PDF and spreadsheet skills",
        "source": "./",
        "strict": False,
        "skills": ["./skills/pdf", "./skills/xlsx"],
    },
    # A bare name is joined to metadata.pluginRoot; the version comes from plugin.json.
    {"name": "reviewer", "source": "reviewer"},
    {"name": "remote", "source": {"source": "npm", "package": "@acme/remote-plugin"}},
    {"name": "hooks-only", "source": "./plugins/hooks-only"},
    {"name": "Explanatory Output Style", "source": "./plugins/hooks-only"},
]

FILES: dict[str, str | bytes] = {
    ".claude-plugin/marketplace.json": marketplace_json(
        "acme-tools", PLUGINS, metadata={"pluginRoot": "./plugins"}
    ),
    "plugins/aws-tools/skills/cdk/SKILL.md": skill_md("cdk"),
    "plugins/aws-tools/skills/lambda/SKILL.md": skill_md("lambda"),
    "plugins/aws-tools/skills/lambda/references/limits.md": "Timeouts: 15 minutes.\n",
    "plugins/aws-tools/commands/deploy.md": "Deploy.\n",
    "plugins/reviewer/.claude-plugin/plugin.json": json.dumps(
        {"name": "reviewer", "version": "0.3.1", "description": "Reviews diffs"}
    ),
    "plugins/reviewer/skills/review/SKILL.md": skill_md("review"),
    "plugins/hooks-only/hooks/hooks.json": "{}\n",
    "skills/pdf/SKILL.md": skill_md("pdf"),
    "skills/xlsx/SKILL.md": skill_md("xlsx"),
    "skills/unlisted/SKILL.md": skill_md("unlisted"),
    "README.md": "A marketplace.\n",
}


@pytest.fixture
def market(tmp_path: Path) -> GitRepo:
    return make_git_repo(tmp_path / "server", FILES)


def lock_of(project: Path) -> dict[str, dict[str, object]]:
    data = yaml.safe_load((project / "skills.lock").read_text())
    return {p["name"]: p for p in data["packages"]}


def installed(project: Path) -> list[str]:
    skills = project / ".claude/skills"
    return sorted(p.name for p in skills.iterdir()) if skills.is_dir() else []


def add(cli: Cli, project: Path, market: GitRepo) -> None:
    result = cli("registry", "add", "acme", market.url, cwd=project)
    assert result.exit_code == 0, result.output


def test_plugin_with_two_skills_installs_both_and_locks_its_version(
    cli: Cli, project: Path, market: GitRepo
) -> None:
    add(cli, project, market)
    result = cli("install", "aws-tools", cwd=project)
    assert result.exit_code == 0, result.output
    assert "+ aws-tools 1.2.0" in result.stdout
    # Commands are markdown, not code: the note gives the reason that applies to them.
    assert (
        "aws-tools: skillpm installs its skills; its commands are left to Claude Code's "
        "/plugin install (skillpm does not install them yet)" in result.output
    )
    assert "run code" not in result.output
    assert installed(project) == ["cdk", "lambda"]
    assert (project / ".claude/skills/lambda/references/limits.md").read_text() == (
        "Timeouts: 15 minutes.\n"
    )
    locked = lock_of(project)["aws-tools"]
    assert locked["version"] == "1.2.0"
    assert locked["commit"] == market.head
    assert locked["skills"] == ["cdk", "lambda"]
    assert str(locked["integrity"]).startswith("sha256:")
    assert "aws-tools: ^1.2.0" in (project / "skills.yaml").read_text()
    # The plugin's commands are not skills: nothing else lands in the project.
    assert not (project / ".claude/commands").exists()


def test_plugin_slash_skill_installs_one_skill_only(
    cli: Cli, project: Path, market: GitRepo
) -> None:
    add(cli, project, market)
    result = cli("install", "aws-tools/lambda", cwd=project)
    assert result.exit_code == 0, result.output
    assert installed(project) == ["lambda"]
    assert lock_of(project)["aws-tools"]["skills"] == ["lambda"]
    manifest = yaml.safe_load((project / "skills.yaml").read_text())
    assert manifest["dependencies"]["aws-tools"] == {"version": "^1.2.0", "skills": ["lambda"]}

    more = cli("install", "aws-tools/cdk", cwd=project)
    assert more.exit_code == 0, more.output
    assert "~ aws-tools 1.2.0 (skills: cdk, lambda)" in more.stdout
    assert installed(project) == ["cdk", "lambda"]

    whole = cli("install", "aws-tools", cwd=project)
    assert whole.exit_code == 0, whole.output
    assert yaml.safe_load((project / "skills.yaml").read_text())["dependencies"] == {
        "aws-tools": "^1.2.0"
    }


def test_unknown_skill_of_a_plugin_is_refused(cli: Cli, project: Path, market: GitRepo) -> None:
    add(cli, project, market)
    before = snapshot(project)
    result = cli("install", "aws-tools/nope", cwd=project)
    assert result.exit_code == 1
    assert "aws-tools 1.2.0 has no skill 'nope' (its skills: cdk, lambda)" in result.stderr
    assert snapshot(project) == before


def test_root_source_with_strict_false_and_no_version(
    cli: Cli, project: Path, market: GitRepo
) -> None:
    add(cli, project, market)
    result = cli("install", "document-skills", cwd=project)
    assert result.exit_code == 0, result.output
    # Only the listed skills, not every skills/ folder of the repository root.
    assert installed(project) == ["pdf", "xlsx"]
    # No version anywhere: one derived from the plugin's own files ("c" for content).
    assert re.fullmatch(
        r"0\.0\.0\+c[0-9a-f]{12}", str(lock_of(project)["document-skills"]["version"])
    )
    # A content version says nothing about the next one's order: saved as "*".
    assert "document-skills: '*'" in (project / "skills.yaml").read_text()


def test_version_from_plugin_json_and_plugin_root(cli: Cli, project: Path, market: GitRepo) -> None:
    add(cli, project, market)
    result = cli("install", "reviewer", cwd=project)
    assert result.exit_code == 0, result.output
    assert lock_of(project)["reviewer"]["version"] == "0.3.1"
    assert installed(project) == ["review"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("remote", "plugin remote has an 'npm' source (@acme/remote-plugin): skillpm installs"),
        ("hooks-only", "plugin hooks-only has no skills (it has hooks); skillpm installs skills"),
    ],
)
def test_plugins_skillpm_cannot_install_say_why(
    cli: Cli, project: Path, market: GitRepo, name: str, message: str
) -> None:
    add(cli, project, market)
    before = snapshot(project)
    result = cli("install", name, cwd=project)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project) == before


def test_search_lists_installable_plugins(cli: Cli, project: Path, market: GitRepo) -> None:
    add(cli, project, market)
    result = cli("search", "skills", "--json", cwd=project)
    assert result.exit_code == 0, result.output
    names = {hit["name"] for hit in json.loads(result.stdout)["results"]}
    assert "document-skills" in names
    shown = cli("search", "", "--json", cwd=project)
    names = {hit["name"] for hit in json.loads(shown.stdout)["results"]}
    assert {"aws-tools", "document-skills", "reviewer"} <= names
    assert not names & {"remote", "hooks-only"}


def test_frozen_reproduces_the_lock_after_the_marketplace_moves(
    cli: Cli, project: Path, market: GitRepo, tmp_path: Path
) -> None:
    add(cli, project, market)
    assert cli("install", "aws-tools", "document-skills", cwd=project).exit_code == 0
    first = snapshot(project / ".claude")
    lock = (project / "skills.lock").read_text()
    market.commit({"plugins/aws-tools/skills/cdk/SKILL.md": skill_md("cdk", body="Changed.")})

    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, clone / name)
    result = cli("install", "--frozen", cwd=clone)
    assert result.exit_code == 0, result.output
    assert snapshot(clone / ".claude") == first
    assert (clone / "skills.lock").read_text() == lock


def test_integrity_mismatch_at_the_pinned_commit_is_refused(
    cli: Cli, project: Path, market: GitRepo
) -> None:
    add(cli, project, market)
    assert cli("install", "aws-tools", cwd=project).exit_code == 0
    text = (project / "skills.lock").read_text()
    locked = str(lock_of(project)["aws-tools"]["integrity"])
    (project / "skills.lock").write_text(text.replace(locked, "sha256:" + "0" * 64))
    shutil.rmtree(project / ".claude")
    shutil.rmtree(Path(__import__("os").environ["SKILLPM_CACHE_DIR"]) / "packages")
    before = snapshot(project)
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 1
    assert "integrity check failed for aws-tools 1.2.0" in result.stderr
    assert snapshot(project) == before


def test_symlink_in_a_plugin_is_refused(cli: Cli, project: Path, tmp_path: Path) -> None:
    repo = make_git_repo(
        tmp_path / "server",
        {
            ".claude-plugin/marketplace.json": marketplace_json(
                "links", [{"name": "linky", "source": "./linky"}]
            ),
            "linky/skills/one/SKILL.md": skill_md("one"),
        },
    )
    (repo.work / "linky/skills/one/secret").symlink_to("/etc/passwd")
    repo.commit({}, "add a link")
    add(cli, project, repo)
    before = snapshot(project)
    result = cli("install", "linky", cwd=project)
    assert result.exit_code == 1
    assert "skills/one/secret is a symbolic link" in result.stderr
    assert snapshot(project) == before


def test_not_json_marketplace_is_one_clear_line(cli: Cli, project: Path, tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "server", {".claude-plugin/marketplace.json": "{oops"})
    result = cli("registry", "add", "acme", repo.url, cwd=project)  # read before it is added
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert ".claude-plugin/marketplace.json is not valid JSON" in result.stderr
    assert cli("registry", "add", "acme", repo.url, "--offline", cwd=project).exit_code == 0
    result = cli("install", "anything", cwd=project)
    assert result.exit_code == 1
    assert ".claude-plugin/marketplace.json is not valid JSON" in result.stderr


# -- plain repositories of skill folders -----------------------------------------


def test_plain_skill_repository(cli: Cli, project: Path, tmp_path: Path) -> None:
    repo = make_git_repo(
        tmp_path / "server",
        {
            "skills/terraform-review/SKILL.md": skill_md(
                "terraform-review", metadata={"version": "2.1.0"}
            ),
            "skills/terraform-review/scripts/check.sh": "#!/bin/sh\necho ok\n",
            "skills/incident-notes/SKILL.md": skill_md("incident-notes"),
            "docs/other/SKILL.md": skill_md("other"),  # skills/ exists: only it counts
        },
    )
    add(cli, project, repo)
    result = cli("install", "terraform-review", "incident-notes", cwd=project)
    assert result.exit_code == 0, result.output
    assert installed(project) == ["incident-notes", "terraform-review"]
    locked = lock_of(project)
    assert locked["terraform-review"]["version"] == "2.1.0"
    assert str(locked["incident-notes"]["version"]).startswith("0.0.0+c")
    missing = cli("install", "other", cwd=project)
    assert missing.exit_code == 1
    assert "no package named 'other'" in missing.stderr


def test_shallow_skill_folders_and_duplicate_names(cli: Cli, project: Path, tmp_path: Path) -> None:
    repo = make_git_repo(
        tmp_path / "server",
        {
            "aws/cost-review/SKILL.md": skill_md("cost-review"),
            "gcp/cost-review/SKILL.md": skill_md("cost-review"),
            "writing/style/SKILL.md": skill_md("style"),
            "a/b/c/d/too-deep/SKILL.md": skill_md("too-deep"),
        },
    )
    add(cli, project, repo)
    assert cli("install", "style", cwd=project).exit_code == 0
    before = snapshot(project)
    result = cli("install", "cost-review", cwd=project)
    assert result.exit_code == 1
    assert (
        "two skill folders are named cost-review (aws/cost-review and gcp/cost-review)"
        in result.stderr
    )
    assert snapshot(project) == before
    assert cli("install", "too-deep", cwd=project).exit_code == 1


def test_same_skill_from_two_sources_is_refused_naming_both(
    cli: Cli, project: Path, market: GitRepo, tmp_path: Path
) -> None:
    other = make_git_repo(tmp_path / "other", {"skills/cdk/SKILL.md": skill_md("cdk")})
    add(cli, project, market)
    assert cli("registry", "add", "other", other.url, cwd=project).exit_code == 0
    assert cli("install", "aws-tools", cwd=project).exit_code == 0
    before = snapshot(project)
    result = cli("install", "cdk", cwd=project)
    assert result.exit_code == 1
    assert "skill 'cdk' is provided by both aws-tools 1.2.0 (registry " in result.stderr
    assert re.search(
        rf"cdk 0\.0\.0\+c[0-9a-f]{{12}} \(registry {re.escape(other.url)}\)", result.stderr
    )
    assert snapshot(project) == before


def test_repository_with_nothing_to_offer(cli: Cli, project: Path, tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "server", {"README.md": "nothing\n"})
    result = cli("registry", "add", "acme", repo.url, cwd=project)  # read before it is added
    assert result.exit_code == 1
    assert "not a registry (no index.json, no .claude-plugin/marketplace.json" in result.stderr
    assert not (project / "skills.yaml").exists()
    assert cli("registry", "add", "acme", repo.url, "--offline", cwd=project).exit_code == 0
    result = cli("install", "x", cwd=project)
    assert result.exit_code == 1
    assert "not a registry (no index.json, no .claude-plugin/marketplace.json" in result.stderr


def test_info_search_and_why_find_a_skill_inside_a_plugin(
    cli: Cli, project: Path, market: GitRepo
) -> None:
    add(cli, project, market)
    shown = cli("info", "pdf", cwd=project)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("skill pdf is in document-skills\ndocument-skills ")
    slash = cli("info", "document-skills/pdf", "--json", cwd=project)
    assert slash.exit_code == 0, slash.output
    assert json.loads(slash.stdout)["skill"] == "pdf"
    missing = cli("info", "document-skills/pfd", cwd=project)
    assert missing.exit_code == 1
    assert "no package named 'document-skills/pfd'" in missing.stderr
    assert "did you mean document-skills/pdf?" in missing.stderr

    found = cli("search", "xlsx", "--json", cwd=project)
    assert [h["name"] for h in json.loads(found.stdout)["results"]] == ["document-skills"]

    # install takes PACKAGE/SKILL; a bare skill name is pointed there, and nothing is written.
    before = snapshot(project)
    bare = cli("install", "pdf", cwd=project)
    assert bare.exit_code == 1
    assert "no package named 'pdf'" in bare.stderr
    assert "did you mean document-skills/pdf" in bare.stderr
    assert snapshot(project) == before

    assert cli("install", "document-skills", cwd=project).exit_code == 0
    why = cli("why", "pdf", cwd=project)
    assert why.exit_code == 0, why.output
    assert why.stdout.startswith("skill pdf is in document-skills\ndocument-skills ")


def test_a_lock_from_before_content_versions_still_installs_frozen(
    cli: Cli, project: Path, market: GitRepo, tmp_path: Path
) -> None:
    from skillpm.integrity import integrity_of_entries, walk_tree
    from skillpm.store import package_cache_path

    add(cli, project, market)
    assert cli("install", "document-skills", cwd=project).exit_code == 0
    row = lock_of(project)["document-skills"]
    # What skillpm wrote before versions came from content: the commit's version,
    # and the integrity of the same files with that version in skillpm.yaml.
    legacy = f"0.0.0+g{market.head[:12]}"
    old_package = tmp_path / "old-package"
    shutil.copytree(package_cache_path(str(row["integrity"])), old_package)
    manifest = old_package / "skillpm.yaml"
    manifest.write_text(manifest.read_text().replace(str(row["version"]), legacy))
    old_integrity = integrity_of_entries(walk_tree(old_package))
    text = (project / "skills.lock").read_text()
    text = text.replace(str(row["version"]), legacy).replace(str(row["integrity"]), old_integrity)
    market.commit({"skills/pdf/SKILL.md": skill_md("pdf", body="Moved on.")})

    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(project / "skills.yaml", clone / "skills.yaml")
    (clone / "skills.lock").write_text(text)
    shutil.rmtree(Path(os.environ["SKILLPM_CACHE_DIR"]) / "packages")
    result = cli("install", "--frozen", cwd=clone)
    assert result.exit_code == 0, result.output
    assert (clone / "skills.lock").read_text() == text
    assert "Moved on." not in (clone / ".claude/skills/pdf/SKILL.md").read_text()
    # outdated sees the new content version; update moves to it.
    rows = json.loads(cli("outdated", "--json", "--refresh", cwd=clone).stdout)["packages"]
    assert rows[0]["current"] == legacy and rows[0]["latest"].startswith("0.0.0+c")
    assert cli("update", cwd=clone).exit_code == 0
    assert "Moved on." in (clone / ".claude/skills/pdf/SKILL.md").read_text()


def test_search_lines_up_descriptions_whatever_the_version_length(
    cli: Cli, project: Path, market: GitRepo
) -> None:
    add(cli, project, market)
    result = cli("search", "", cwd=project)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line]
    versions = {line.split()[1] for line in rows}
    assert any(len(v) > 8 for v in versions), versions  # a content version is among them
    starts = {len(line) - len(line.split("  ")[-1]) for line in rows}
    assert len(starts) == 1, result.stdout


def test_a_marketplace_checkout_given_as_a_folder_points_to_its_git_url(
    cli: Cli, project: Path, market: GitRepo
) -> None:
    before = snapshot(project)
    result = cli("install", "--registry", str(market.work), "aws-tools", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "is a plugin marketplace, which skillpm reads over git" in result.stderr
    assert f"use git+file://{market.work.resolve()}" in result.stderr
    assert "no index.json" not in result.stderr
    assert snapshot(project) == before
