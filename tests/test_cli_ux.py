"""The command line as a user meets it: global options, colour, errors, JSON, completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Cli, make_git_registry, make_registry, run_skillpm, snapshot


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {"name": "base", "version": "1.0.0"},
            {"name": "base", "version": "1.1.0"},
            {"name": "base", "version": "2.0.0-rc.1"},
            {"name": "app", "version": "1.0.0", "dependencies": {"base": "^1.0"}},
        ],
    )


@pytest.fixture
def installed(cli: Cli, project: Path, registry: Path) -> Path:
    result = cli("install", "app", "--registry", registry, cwd=project)
    assert result.exit_code == 0, result.output
    return project


def test_install_summary_is_uv_style(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "app", "--registry", registry, cwd=project)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Resolved 2 packages in ")
    assert lines[1].startswith("Installed 2 packages in ") and lines[1].endswith("s")
    assert lines[2:] == [" + app 1.0.0", " + base 1.1.0"]
    result = cli("remove", "app", cwd=project)
    assert result.stdout.splitlines()[0].startswith("Removed 2 packages in ")
    assert result.stdout.splitlines()[1:] == [" - app 1.0.0", " - base 1.1.0"]


def test_upgrade_lines_sorted_old_before_new(cli: Cli, project: Path, registry: Path) -> None:
    cli("install", "base@~1.0.0", "--registry", registry, cwd=project)
    result = cli("install", "base@^1.1", cwd=project)
    assert result.stdout.splitlines()[-2:] == [" - base 1.0.0", " + base 1.1.0"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_works_before_or_after_the_command(
    cli: Cli, project: Path, registry: Path, where: str
) -> None:
    args = ["install", "app", "--registry", str(registry)]
    args = ["-q", *args] if where == "before" else [*args, "-q"]
    result = cli(*args, cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert (project / ".claude/skills/app/SKILL.md").is_file()


def test_project_option_after_the_command(cli: Cli, project: Path, registry: Path) -> None:
    here = snapshot(Path.cwd())
    result = cli("install", "base", "--registry", registry, "-C", project)
    assert result.exit_code == 0, result.output
    assert (project / "skills.lock").is_file()
    listed = cli("list", "--json", "--project", project)
    assert [p["name"] for p in json.loads(listed.stdout)["packages"]] == ["base"]
    assert snapshot(Path.cwd()) == here  # nothing was written in the current folder


def test_verbose_after_the_command_adds_detail(cli: Cli, project: Path, registry: Path) -> None:
    result = cli("install", "base", "--registry", registry, "-v", cwd=project)
    assert "preparing base 1.1.0 from registry" in result.stderr
    quiet = cli("install", "--force", cwd=project)
    assert "preparing" not in quiet.stderr


def test_subcommand_help_lists_global_options(cli: Cli) -> None:
    result = cli("install", "--help")
    assert result.exit_code == 0
    options, _, shared = result.stdout.partition("Global options:")
    assert "--frozen" in options and "--quiet" not in options
    assert "--quiet" in shared and "--color" in shared and "--project" in shared


def test_color_always_never_and_no_color(
    cli: Cli, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dry = ("remove", "app", "--dry-run")
    assert "\x1b[" in cli("--color", "always", *dry, cwd=installed).stdout
    assert "\x1b[" in cli(*dry, "--color=always", cwd=installed).stdout  # after the command
    assert "\x1b[" not in cli(*dry, cwd=installed).stdout  # not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli(*dry, cwd=installed).stdout
    forced = cli(*dry, "--color", "always", cwd=installed)
    assert "\x1b[" in forced.stdout  # an explicit flag beats NO_COLOR (no-color.org)
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in cli("--color", "never", "doctor", cwd=installed).stdout
    # A real terminal-less subprocess: no colour by default.
    assert "\x1b[" not in run_skillpm(*dry, cwd=installed).stdout


def test_mistyped_command_suggests_the_real_one(cli: Cli, project: Path) -> None:
    result = cli("instal", "cdk-patterns", cwd=project)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: no such command 'instal'; did you mean 'install'? (see 'skillpm --help')\n"
    )
    assert list(project.iterdir()) == []


def test_mistyped_option_is_one_line(cli: Cli, project: Path) -> None:
    result = cli("install", "--frozne", cwd=project)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "no such option --frozne; did you mean --frozen?" in result.stderr
    assert "'skillpm install --help'" in result.stderr


def test_missing_argument_is_one_line(cli: Cli, project: Path) -> None:
    result = cli("remove", cwd=project)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: missing argument 'PKG...'")
    assert result.stderr.count("\n") == 1


def test_remove_unknown_name_suggests_and_changes_nothing(cli: Cli, installed: Path) -> None:
    before = snapshot(installed)
    result = cli("remove", "ap", cwd=installed)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no package named 'ap' in skills.yaml dependencies; did you mean app?\n"
    )
    result = cli("remove", "zzz", cwd=installed)
    assert "'skillpm list' shows what is installed" in result.stderr
    assert snapshot(installed) == before


def test_json_outputs_parse_with_stable_shapes(cli: Cli, installed: Path) -> None:
    listed = json.loads(cli("list", "--json", cwd=installed).stdout)
    assert listed["packages"][0] == {
        "name": "app",
        "version": "1.0.0",
        "direct": True,
        "requirement": "^1.0.0",
        "registry": listed["packages"][0]["registry"],
        "skills": ["app"],
        "fragments": [],
        "settings": [],
        "claudeignore": [],
        "intact": True,
        "signers": [],
    }
    assert listed["packages"][1]["direct"] is False
    assert listed["packages"][1]["requirement"] is None

    info = json.loads(cli("info", "base", "--json", cwd=installed).stdout)
    assert set(info) == {
        "name",
        "registry",
        "registry_url",
        "latest",
        "installed",
        "description",
        "skills",
        "fragments",
        "dependencies",
        "skill",
        "versions",
    }
    assert info["latest"] == "1.1.0"  # not the prerelease
    assert info["installed"] == "1.1.0"
    assert info["registry"] == "registry"
    assert [v["version"] for v in info["versions"]] == ["1.0.0", "1.1.0", "2.0.0-rc.1"]
    assert set(info["versions"][0]) == {"version", "yanked", "yank_reason", "published", "signers"}

    found = json.loads(cli("search", "APP", "--json", cwd=installed).stdout)
    assert found == {
        "results": [
            {
                "name": "app",
                "version": "1.0.0",
                "description": "The app package",
                "registry": "registry",
                "registry_url": found["results"][0]["registry_url"],
            }
        ]
    }
    assert json.loads(cli("search", "nothing-like-it", "--json", cwd=installed).stdout) == {
        "results": []
    }


def test_json_is_clean_even_with_verbose(cli: Cli, project: Path, tmp_path: Path) -> None:
    remote = make_git_registry(tmp_path / "server", [{"name": "base", "version": "1.0.0"}])
    assert cli("install", "base", "--registry", remote.url, cwd=project).exit_code == 0
    remote.push([{"name": "base", "version": "1.1.0"}])
    result = cli("-vv", "outdated", "--json", "--refresh", cwd=project)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # exactly one JSON document: no detail mixed in
    assert [(p["name"], p["latest"]) for p in data["packages"]] == [("base", "1.1.0")]
    assert "fetched HEAD of registry" in result.stderr  # the -vv detail, on stderr


def test_completion_scripts(cli: Cli) -> None:
    markers = {"bash": "complete -o", "zsh": "compdef", "fish": "complete --no-files"}
    for shell, marker in markers.items():
        result = cli("completion", shell)
        assert result.exit_code == 0
        assert marker in result.stdout and "_SKILLPM_COMPLETE" in result.stdout
    assert cli("completion", "tcsh").exit_code == 2


def _complete(project: Path, words: str, *, subprocess: bool = False) -> list[str]:
    """What the shell would offer for ``words`` (click's bash protocol)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {"_SKILLPM_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    if subprocess:
        result = run_skillpm(cwd=project, env=env)
    else:  # the same entry point in-process, for speed
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(project)
            for key, value in env.items():
                patch.setenv(key, value)
            result = Cli()()
    assert result.exit_code == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_completion_offers_package_names_without_network(installed: Path) -> None:
    assert _complete(installed, "skillpm install ba", subprocess=True) == ["base"]
    assert _complete(installed, "skillpm info ap") == ["app"]
    assert "cdk-patterns" in _complete(installed, "skillpm install cdk")  # the built-in
    assert _complete(installed, "skillpm remove ") == ["app"]
    assert _complete(installed, "skillpm why ") == ["app", "base"]
    assert "install" in _complete(installed, "skillpm inst")
    # A registry that cannot be opened is skipped, never an error in the shell.
    (installed / "skills.yaml").write_text(
        "registries:\n  gone: ./missing\n  remote: git+https://example.invalid/r.git\n"
        "dependencies:\n  app: ^1\n"
    )
    assert _complete(installed, "skillpm install ba") == []
    assert "cdk-patterns" in _complete(installed, "skillpm install cdk")
    (installed / "skills.yaml").write_text("dependencies: [broken\n")
    assert _complete(installed, "skillpm remove ") == []


def test_builtin_cdk_patterns_json_round_trip(cli: Cli, project: Path) -> None:
    assert cli("install", "cdk-patterns", cwd=project).exit_code == 0
    queries = [("list",), ("info", "cdk-patterns"), ("search", "cdk"), ("outdated",)]
    for args in (*queries, ("tree",), ("doctor",), ("lint",)):
        result = cli(*args, "--json", cwd=project)
        assert result.exit_code == 0, (args, result.output)
        json.loads(result.stdout)
    assert json.loads(cli("why", "cdk-patterns", "--json", cwd=project).stdout)["direct"]


def test_bare_command_prints_help(cli: Cli) -> None:
    result = cli()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: skillpm") and "doctor" in result.stdout
    assert result.stderr == ""


def test_completion_reads_git_registries_from_the_cache_only(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    remote = make_git_registry(tmp_path / "server", [{"name": "gitpkg"}, {"name": "gitother"}])
    (project / "skills.yaml").write_text(f"registries:\n  team: {remote.url}\n")
    assert _complete(project, "skillpm install gitp") == []  # never fetched: nothing cached
    assert cli("install", "gitpkg", cwd=project).exit_code == 0
    remote.push([{"name": "gitnew"}])  # not fetched yet: completion must not fetch it
    assert _complete(project, "skillpm install git") == ["gitother", "gitpkg"]
