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
