"""Marketplace plugins stored in other git repositories, as the official marketplace has them.

A marketplace repository lists plugins by ``git-subdir``, ``url`` and ``github``
sources, pinned by ``sha`` or following a ``ref``. Each plugin repository is a bare
repository served over file://; the ``https://github.com/...`` URLs the marketplace
names reach them through git's ``url.<base>.insteadOf``, as a user's git config
could, so the tests stay offline while the marketplace reads like the real one.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, git, make_git_repo, marketplace_json, skill_md, snapshot


def plugin_json(name: str, version: str | None = None, **extra: object) -> str:
    data: dict[str, object] = {"name": name, **extra}
    if version:
        data["version"] = version
    return json.dumps(data)


TOOLKIT = {  # aws/agent-toolkit-for-aws style: plugins/<name> with plugin.json
    "plugins/aws-iac/.claude-plugin/plugin.json": plugin_json("aws-iac", "1.3.0"),
    "plugins/aws-iac/skills/aws-cdk/SKILL.md": skill_md("aws-cdk"),
    "plugins/aws-common/.claude-plugin/plugin.json": plugin_json(
        "aws-common", "1.0.0", hooks="./hooks/hooks.json"
    ),
    "plugins/aws-common/skills/aws-iam/SKILL.md": skill_md("aws-iam"),
    "plugins/aws-common/commands/deploy.md": "Deploy.\n",
    "plugins/aws-common/.mcp.json": "{}\n",
    "README.md": "Toolkit.\n",
}
DOCS = {  # anthropics/skills style: no versions anywhere, skills at the root
    "skills/pdf/SKILL.md": skill_md("pdf"),
    "skills/xlsx/SKILL.md": skill_md("xlsx"),
}


class World:
    def __init__(self, root: Path, home: Path) -> None:
        self.toolkit = make_git_repo(root / "github/acme/aws-toolkit", TOOLKIT)
        self.docs = make_git_repo(root / "github/acme/docs-skills", DOCS)
        # https://github.com/acme/<name>.git -> the bare repository above.
        for repo in (self.toolkit, self.docs):
            repo.bare.rename(repo.bare.parent.with_suffix(".git"))
            repo.bare = repo.bare.parent.with_suffix(".git")
            (repo.work / ".git/config").write_text(
                (repo.work / ".git/config").read_text().replace("/repo.git", ".git")
            )
        with (home / ".gitconfig").open("a") as config:
            config.write(
                f'[url "{(root / "github").as_uri()}/"]\n\tinsteadOf = https://github.com/\n'
            )
        self.market = make_git_repo(root / "market", {".claude-plugin/marketplace.json": "{}"})
        self.publish(common_sha=self.toolkit.head)

    def entries(self, common_sha: str) -> list[dict[str, object]]:
        url = "https://github.com/acme/aws-toolkit.git"
        return [
            {
                "name": "aws-iac",
                "source": {
                    "source": "git-subdir",
                    "url": url,
                    "path": "plugins/aws-iac",
                    "ref": "main",
                },
            },
            {
                "name": "aws-common",
                "source": {
                    "source": "git-subdir",
                    "url": url,
                    "path": "plugins/aws-common",
                    "sha": common_sha,
                },
            },
            {
                "name": "pdf-tools",
                "strict": False,
                "skills": ["./skills/pdf"],
                "source": {"source": "url", "url": "https://github.com/acme/docs-skills.git"},
            },
            {
                "name": "xlsx-tools",
                "strict": False,
                "skills": ["./skills/xlsx"],
                "source": {"source": "github", "repo": "acme/docs-skills"},
            },
        ]

    def publish(self, common_sha: str, extra: list[dict[str, object]] | None = None) -> None:
        plugins = self.entries(common_sha) + (extra or [])
        text = marketplace_json("acme-market", plugins, renames={"old-iac": "aws-iac"})
        self.market.commit({".claude-plugin/marketplace.json": text}, "marketplace")


@pytest.fixture
def world(tmp_path: Path, isolated_env: Path) -> World:
    return World(tmp_path, isolated_env)


def lock_rows(project: Path) -> dict[str, dict[str, object]]:
    data = yaml.safe_load((project / "skills.lock").read_text())
    return {p["name"]: p for p in data["packages"]}


def lock_block(project: Path, name: str) -> str:
    """The lock's lines for one package, to compare byte for byte."""
    text = (project / "skills.lock").read_text()
    return re.search(rf"^- name: {name}\n(?:  .*\n)*", text, re.M).group(0)  # type: ignore[union-attr]


def setup(cli: Cli, project: Path, world: World, *names: str) -> None:
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    result = cli("install", *names, cwd=project)
    assert result.exit_code == 0, result.output


def test_git_subdir_plugin_pinned_by_sha_installs_and_locks_its_source(
    cli: Cli, project: Path, world: World
) -> None:
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    result = cli("install", "aws-common", cwd=project)
    assert result.exit_code == 0, result.output
    assert "+ aws-common 1.0.0" in result.stdout
    # What the plugin has besides skills is named, in one line.
    assert (
        "aws-common: skillpm installs its skills; its commands, hooks and MCP servers are "
        "left to Claude Code's /plugin install (hooks and MCP servers run code)" in result.output
    )
    assert (project / ".claude/skills/aws-iam/SKILL.md").is_file()
    row = lock_rows(project)["aws-common"]
    assert row["commit"] == world.market.head
    assert row["source"] == {
        "url": "https://github.com/acme/aws-toolkit.git",
        "path": "plugins/aws-common",
        "commit": world.toolkit.head,
    }


def test_ref_is_resolved_once_and_frozen_reproduces_after_both_repositories_move(
    cli: Cli, project: Path, world: World, tmp_path: Path
) -> None:
    setup(cli, project, world, "aws-iac", "pdf-tools", "xlsx-tools")
    first = snapshot(project / ".claude")
    lock = (project / "skills.lock").read_text()
    assert lock_rows(project)["aws-iac"]["source"]["commit"] == world.toolkit.head  # type: ignore[index]
    assert "path" not in lock_rows(project)["pdf-tools"]["source"]  # type: ignore[operator]
    # Both move on: the plugin's branch and the marketplace.
    world.toolkit.commit(
        {"plugins/aws-iac/skills/aws-cdk/SKILL.md": skill_md("aws-cdk", body="New.")}
    )
    world.docs.commit({"skills/pdf/SKILL.md": skill_md("pdf", body="New.")})
    world.publish(common_sha=world.toolkit.head)

    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, clone / name)
    shutil.rmtree(Path(__import__("os").environ["SKILLPM_CACHE_DIR"]) / "packages")
    result = cli("install", "--frozen", cwd=clone)
    assert result.exit_code == 0, result.output
    assert snapshot(clone / ".claude") == first
    assert (clone / "skills.lock").read_text() == lock

    # Then both remotes are gone: the warm cache still reproduces it, offline.
    for repo in (world.toolkit, world.docs, world.market):
        shutil.rmtree(repo.bare)
    again = tmp_path / "again"
    again.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, again / name)
    result = cli("install", "--frozen", "--offline", cwd=again)
    assert result.exit_code == 0, result.output
    assert snapshot(again / ".claude") == first


def test_plugins_without_versions_move_only_when_their_own_files_change(
    cli: Cli, project: Path, world: World
) -> None:
    setup(cli, project, world, "pdf-tools", "xlsx-tools")
    pdf = lock_rows(project)["pdf-tools"]["version"]
    assert re.fullmatch(r"0\.0\.0\+c[0-9a-f]{12}", str(pdf))
    xlsx_before = lock_block(project, "xlsx-tools")
    # The repository moves twice, once without touching either plugin.
    world.docs.commit({"README.md": "Docs.\n"})
    up_to_date = cli("outdated", "--refresh", cwd=project)
    assert up_to_date.exit_code == 0, up_to_date.output
    assert "All 2 packages are at their latest versions" in up_to_date.stdout
    world.docs.commit({"skills/pdf/SKILL.md": skill_md("pdf", body="Better.")})

    shown = cli("outdated", "--json", "--refresh", cwd=project)
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)["packages"]
    assert [r["name"] for r in rows] == ["pdf-tools"]
    assert rows[0]["current"] == pdf and rows[0]["latest"] == rows[0]["wanted"] != pdf

    result = cli("update", cwd=project)
    assert result.exit_code == 0, result.output
    assert lock_rows(project)["pdf-tools"]["version"] == rows[0]["latest"]
    assert "Better." in (project / ".claude/skills/pdf/SKILL.md").read_text()
    assert lock_block(project, "xlsx-tools") == xlsx_before


def bump_toolkit(world: World) -> None:
    """Upstream: aws-iac jumps a major version, aws-common gets a compatible minor one."""
    world.toolkit.commit(
        {
            "plugins/aws-iac/.claude-plugin/plugin.json": plugin_json("aws-iac", "2.0.0"),
            "plugins/aws-common/.claude-plugin/plugin.json": plugin_json("aws-common", "1.1.0"),
        }
    )
    world.publish(common_sha=world.toolkit.head)


def test_outdated_reports_a_major_bump_beyond_the_range_instead_of_failing(
    cli: Cli, project: Path, world: World
) -> None:
    setup(cli, project, world, "aws-iac", "aws-common")
    assert "aws-iac: ^1.3.0" in (project / "skills.yaml").read_text()
    bump_toolkit(world)
    result = cli("outdated", "--refresh", cwd=project)
    assert result.exit_code == 0, result.output
    table = {line.split()[0]: line.split()[1:4] for line in result.stdout.splitlines()[1:]}
    assert table["aws-iac"] == ["1.3.0", "1.3.0", "2.0.0"]
    assert table["aws-common"] == ["1.0.0", "1.1.0", "1.1.0"]
    gate = cli("outdated", "--exit-code", cwd=project)
    assert gate.exit_code == 1
    assert "error" not in gate.stderr


def test_update_moves_only_the_named_package_and_latest_widens_only_its_range(
    cli: Cli, project: Path, world: World
) -> None:
    setup(cli, project, world, "aws-iac", "aws-common")
    iac_before = lock_block(project, "aws-iac")
    bump_toolkit(world)

    result = cli("update", "aws-common", cwd=project)
    assert result.exit_code == 0, result.output
    assert "aws-common" in result.stdout and "1.1.0" in result.stdout
    assert lock_rows(project)["aws-common"]["version"] == "1.1.0"
    assert lock_block(project, "aws-iac") == iac_before

    common_before = lock_block(project, "aws-common")
    result = cli("update", "aws-iac", "--latest", cwd=project)
    assert result.exit_code == 0, result.output
    assert lock_rows(project)["aws-iac"]["version"] == "2.0.0"
    manifest = yaml.safe_load((project / "skills.yaml").read_text())["dependencies"]
    assert manifest == {"aws-iac": "^2.0.0", "aws-common": "^1.0.0"}
    assert lock_block(project, "aws-common") == common_before
    gate = cli("outdated", "--exit-code", cwd=project)
    assert gate.exit_code == 0, gate.output


def test_a_sha_the_remote_no_longer_has_is_one_line_and_writes_nothing(
    cli: Cli, project: Path, world: World
) -> None:
    world.publish(common_sha="0123456789abcdef0123456789abcdef01234567")
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    before = snapshot(project)
    result = cli("install", "aws-common", cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: plugin aws-common: https://github.com/acme/aws-toolkit.git has no commit "
        "0123456789ab (was its history rewritten?); nothing was installed\n"
    )
    assert snapshot(project) == before


def test_an_unreachable_plugin_repository_names_plugin_url_and_reason(
    cli: Cli, project: Path, world: World
) -> None:
    gone = {"name": "gone", "source": {"source": "url", "url": "https://github.com/acme/nope.git"}}
    world.publish(common_sha=world.toolkit.head, extra=[gone])
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    before = snapshot(project)
    result = cli("install", "gone", cwd=project)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: plugin gone: https://github.com/acme/nope.git: cannot fetch ("
    )
    assert snapshot(project) == before


def test_renamed_plugin_points_to_its_new_name(cli: Cli, project: Path, world: World) -> None:
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    result = cli("install", "old-iac", cwd=project)
    assert result.exit_code == 1
    assert "plugin old-iac was renamed to aws-iac in marketplace acme-market" in result.stderr


def test_plugin_dependencies_are_installed_with_it(cli: Cli, project: Path, world: World) -> None:
    suite = {
        "name": "aws-suite",
        "source": {
            "source": "git-subdir",
            "url": "https://github.com/acme/aws-toolkit.git",
            "path": "plugins/aws-iac",
        },
        "version": "0.1.0",
        "dependencies": ["pdf-tools", {"name": "aws-common", "version": "^1.0.0"}],
    }
    world.publish(common_sha=world.toolkit.head, extra=[suite])
    setup(cli, project, world, "aws-suite")
    rows = lock_rows(project)
    assert set(rows) == {"aws-suite", "pdf-tools", "aws-common"}
    assert rows["aws-suite"]["dependencies"] == ["aws-common", "pdf-tools"]


def test_bad_remote_sources_say_what_is_wrong(cli: Cli, project: Path, world: World) -> None:
    bad = [
        {"name": "no-path", "source": {"source": "git-subdir", "url": "https://x.org/a.git"}},
        {
            "name": "short-sha",
            "source": {"source": "url", "url": "https://x.org/a.git", "sha": "abc"},
        },
        {"name": "plain-http", "source": {"source": "url", "url": "http://x.org/a.git"}},
        {
            "name": "escape",
            "source": {"source": "git-subdir", "url": "https://x.org/a.git", "path": "../etc"},
        },
        {"name": "ext", "source": {"source": "url", "url": "ext::sh -c touch% /tmp/pwned"}},
    ]
    world.publish(common_sha=world.toolkit.head, extra=bad)
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    for name, message in (
        ("no-path", "plugin no-path (git-subdir source): path is required"),
        ("short-sha", "plugin short-sha (url source): sha must be a full 40-digit commit id"),
        ("plain-http", "plugin plain-http (url source): url must be a git URL"),
        (
            "escape",
            "plugin escape (git-subdir source): path: '../etc' points outside the repository",
        ),
        ("ext", "plugin ext (url source): url must be a git URL"),
    ):
        result = cli("install", name, cwd=project)
        assert result.exit_code == 1
        assert message in result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_search_lists_plugins_of_other_repositories_without_fetching_them(
    cli: Cli, project: Path, world: World
) -> None:
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    shutil.rmtree(world.toolkit.bare)  # never fetched for a search
    result = cli("search", "aws", "--json", cwd=project)
    assert result.exit_code == 0, result.output
    hits = {h["name"]: h for h in json.loads(result.stdout)["results"]}
    assert {"aws-iac", "aws-common"} <= set(hits)
    assert hits["aws-iac"]["version"] is None
    text = cli("search", "aws-iac", cwd=project)
    assert re.search(r"^aws-iac\s+-\s", text.stdout, re.M)
    typo = cli("install", "aws-iak", cwd=project)
    assert "did you mean aws-iac" in typo.stderr


def test_a_marketplace_on_a_server_may_not_name_local_repositories(
    cli: Cli, project: Path, world: World, tmp_path: Path
) -> None:
    local = {"name": "local", "source": {"source": "url", "url": world.docs.bare.as_uri()}}
    world.publish(common_sha=world.toolkit.head, extra=[local])
    # The marketplace reached as https://github.com/... (a server, as far as skillpm knows).
    served = tmp_path / "github/acme/market.git"
    shutil.copytree(world.market.bare, served)
    url = "git+https://github.com/acme/market.git"
    assert cli("registry", "add", "acme", url, cwd=project).exit_code == 0
    before = snapshot(project)
    result = cli("install", "local", cwd=project)
    assert result.exit_code == 1
    assert "plugin local: its source file:///" in result.stderr
    assert "only a marketplace on this machine (git+file://) may name" in result.stderr
    assert snapshot(project) == before
    # The same marketplace read from this machine may.
    assert cli("registry", "remove", "acme", cwd=project).exit_code == 0
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    assert cli("install", "local", cwd=project).exit_code == 0


def test_files_changed_without_a_version_bump_are_outdated_and_updated(
    cli: Cli, project: Path, world: World
) -> None:
    setup(cli, project, world, "aws-common")
    world.toolkit.commit(
        {"plugins/aws-common/skills/aws-iam/SKILL.md": skill_md("aws-iam", body="v2")}
    )
    world.publish(common_sha=world.toolkit.head)
    shown = cli("outdated", "--refresh", cwd=project)
    assert "aws-common  1.0.0    1.0.0   1.0.0   files changed, same version" in shown.stdout
    rows = json.loads(cli("outdated", "--json", cwd=project).stdout)["packages"]
    assert [(r["name"], r["changed"]) for r in rows] == [("aws-common", True)]
    result = cli("update", cwd=project)
    assert result.exit_code == 0, result.output
    assert "~ aws-common 1.0.0 (its files changed, same version)" in result.stdout
    assert "v2" in (project / ".claude/skills/aws-iam/SKILL.md").read_text()
    assert lock_rows(project)["aws-common"]["source"]["commit"] == world.toolkit.head  # type: ignore[index]


def test_a_plugin_changed_without_a_bump_stays_locked_when_another_is_updated(
    cli: Cli, project: Path, world: World
) -> None:
    setup(cli, project, world, "aws-iac", "aws-common")
    common_before = lock_block(project, "aws-common")
    world.toolkit.commit(
        {
            "plugins/aws-common/skills/aws-iam/SKILL.md": skill_md("aws-iam", body="v2"),
            "plugins/aws-iac/.claude-plugin/plugin.json": plugin_json("aws-iac", "1.4.0"),
        }
    )
    world.publish(common_sha=world.toolkit.head)
    result = cli("update", "aws-iac", cwd=project)
    assert result.exit_code == 0, result.output
    assert lock_rows(project)["aws-iac"]["version"] == "1.4.0"
    assert lock_block(project, "aws-common") == common_before
    assert "v2" not in (project / ".claude/skills/aws-iam/SKILL.md").read_text()
    # Adding another package does not move it either.
    assert cli("install", "pdf-tools", cwd=project).exit_code == 0
    assert lock_block(project, "aws-common") == common_before


def test_a_symlink_in_a_remote_plugin_is_refused(cli: Cli, project: Path, world: World) -> None:
    link = world.toolkit.work / "plugins/aws-iac/skills/aws-cdk/secret"
    link.symlink_to("/etc/passwd")
    world.toolkit.commit({})
    world.publish(common_sha=world.toolkit.head)
    assert cli("registry", "add", "acme", world.market.url, cwd=project).exit_code == 0
    before = snapshot(project)
    result = cli("install", "aws-iac", cwd=project)
    assert result.exit_code == 1
    assert (
        "skills/aws-cdk/secret is a symbolic link; packages hold plain files only" in result.stderr
    )
    assert snapshot(project) == before


def test_a_force_pushed_plugin_repository(
    cli: Cli, project: Path, world: World, tmp_path: Path
) -> None:
    setup(cli, project, world, "aws-iac")
    locked = lock_rows(project)["aws-iac"]["source"]["commit"]  # type: ignore[index]
    # History rewritten: main replaced by an unrelated commit; the locked one is gone.
    work = world.toolkit.work
    git("checkout", "-q", "--orphan", "rewritten", cwd=work)
    git("commit", "-q", "-m", "rewritten", cwd=work)
    git("push", "-q", "--force", "origin", "rewritten:main", cwd=work)
    git("gc", "-q", "--prune=now", cwd=world.toolkit.bare)

    # A warm cache still has it: the lock installs.
    warm = tmp_path / "warm"
    warm.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, warm / name)
    shutil.rmtree(Path(__import__("os").environ["SKILLPM_CACHE_DIR"]) / "packages")
    result = cli("install", "--frozen", cwd=warm)
    assert result.exit_code == 0, result.output

    # A cold one cannot fetch it, and says why in one line, writing nothing.
    shutil.rmtree(Path(__import__("os").environ["SKILLPM_CACHE_DIR"]))
    cold = tmp_path / "cold"
    cold.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, cold / name)
    before = snapshot(cold)
    result = cli("install", "--frozen", cwd=cold)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: plugin aws-iac: https://github.com/acme/aws-toolkit.git has no commit "
        f"{str(locked)[:12]} (was its history rewritten?); nothing was installed\n"
    )
    assert snapshot(cold) == before


def test_info_finds_an_installed_skill_of_a_plugin_in_another_repository(
    cli: Cli, project: Path, world: World
) -> None:
    setup(cli, project, world, "aws-iac")
    shown = cli("info", "aws-cdk", cwd=project)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("skill aws-cdk is in aws-iac\naws-iac 1.3.0")
    as_json = cli("info", "aws-cdk", "--json", cwd=project)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["skill"] == "aws-cdk"
    assert json.loads(as_json.stdout)["name"] == "aws-iac"


@pytest.mark.parametrize("command", [["update"], ["outdated", "--refresh"]])
def test_plugins_sharing_a_repository_fetch_it_once(
    cli: Cli,
    project: Path,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    setup(cli, project, world, "pdf-tools", "xlsx-tools")  # both in acme/docs-skills
    trace = tmp_path / "git-trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    result = cli(*command, cwd=project)
    assert result.exit_code == 0, result.output
    fetches = [
        line
        for line in trace.read_text().splitlines()
        if "built-in: git fetch" in line and "HEAD:refs/skillpm/refs/HEAD" in line
    ]
    # One for the marketplace, one for the repository both plugins live in.
    assert len(fetches) == 2, "\n".join(fetches)
