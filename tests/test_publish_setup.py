"""Publishing as CI and fresh servers set it up (issue 23, items 7 and 8): git's author
variables alone, and a repository made with a plain `git init --bare`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Cli, empty_git_repo, git, make_package


@pytest.fixture
def no_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A git configuration without user.name / user.email, as on a fresh CI runner."""
    config = tmp_path / "ci.gitconfig"
    config.write_text('[protocol "file"]\n\tallow = always\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(var, raising=False)


def test_git_author_variables_alone_are_enough(
    cli: Cli, tmp_path: Path, no_identity: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = empty_git_repo(tmp_path / "server")
    source = make_package(tmp_path / "src", "app")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "CI Bot")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ci@example.com")
    result = cli("publish", source, "--registry", remote.url)
    assert result.exit_code == 0, result.output
    who = git("log", "-1", "--format=%an <%ae> / %cn <%ce>", cwd=remote.bare)
    assert who == "CI Bot <ci@example.com> / CI Bot <ci@example.com>"


def test_a_configured_committer_is_kept(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = empty_git_repo(tmp_path / "server")
    source = make_package(tmp_path / "src", "app")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "CI Bot")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ci@example.com")
    assert cli("publish", source, "--registry", remote.url).exit_code == 0
    who = git("log", "-1", "--format=%an / %cn", cwd=remote.bare)
    assert who == "CI Bot / Test"  # user.name from the test's git config


def test_publish_to_a_plain_bare_repository_uses_the_branch_head_names(
    cli: Cli, tmp_path: Path, project: Path
) -> None:
    remote = empty_git_repo(tmp_path / "server", branch="master")
    for name in ("app", "tool"):
        source = make_package(tmp_path / "src" / name, name)
        result = cli("publish", source, "--registry", remote.url)
        assert result.exit_code == 0, result.output
        assert "(branch master)" in result.stdout
        assert "warning" not in result.stderr
    hint = result.stdout.splitlines()[-1]
    assert hint == f"Install it with: skillpm install tool --registry {remote.url}"
    assert cli(*hint.split()[4:], cwd=project).exit_code == 0


def test_a_head_naming_a_missing_branch_falls_back_to_the_only_branch(
    cli: Cli, tmp_path: Path, project: Path
) -> None:
    """An old server says nothing about an empty repository's HEAD: skillpm starts 'main',
    warns, and every hint it prints works."""
    remote = empty_git_repo(tmp_path / "server", branch="master")
    git("config", "lsrefs.unborn", "ignore", cwd=remote.bare)
    source = make_package(tmp_path / "src" / "app", "app")
    result = cli("publish", source, "--registry", remote.url)
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "#main" in result.stderr
    # The next publish needs no '#main': it goes to the only branch there is.
    source = make_package(tmp_path / "src" / "tool", "tool")
    result = cli("publish", source, "--registry", remote.url)
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "#main" in result.stderr
    hint = result.stdout.splitlines()[-1]
    assert hint == f"Install it with: skillpm install tool --registry {remote.url}#main"
    assert cli(*hint.split()[4:], cwd=project).exit_code == 0
