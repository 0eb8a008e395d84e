"""Publishing, yanking and unyanking to git registries: real bare repositories as servers,
real pushes, real concurrent processes racing for the same branch."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import (
    Cli,
    GitRegistry,
    empty_git_repo,
    finish,
    git,
    make_git_registry,
    make_package,
    run_skillpm,
    snapshot,
    spawn_skillpm,
)

SPECS = [{"name": "base", "version": "1.0.0"}, {"name": "base", "version": "1.1.0"}]


@pytest.fixture
def remote(tmp_path: Path) -> GitRegistry:
    return make_git_registry(tmp_path / "server", SPECS)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


def use_cache(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Another user's cache: what they read comes from the server, not from ours."""
    cache = tmp_path / name
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(cache))
    return cache


def barrier(remote: GitRegistry, tmp_path: Path, parties: int = 2) -> None:
    """A pre-receive hook holding every push until ``parties`` pushes have arrived.

    Each publisher fetched the same tip before pushing, so all but one lose the race
    for certain: the server takes one ref update, and the others fail its old-value check.
    """
    gate = tmp_path / "gate"
    gate.mkdir()
    remote.hook(
        "pre-receive",
        f"""cat >/dev/null
touch "{gate}/$$"
i=0
while [ "$(ls "{gate}" | wc -l)" -lt {parties} ] && [ $i -lt 400 ]; do
  sleep 0.025; i=$((i+1))
done
""",
    )


def lock_of(project: Path) -> dict[str, str]:
    data = yaml.safe_load((project / "skills.lock").read_text())
    return {p["name"]: p["version"] for p in data["packages"]}


# --- publish ----------------------------------------------------------------------------


def test_publish_to_an_empty_repository_then_install_elsewhere(
    cli: Cli, src: Path, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = empty_git_repo(tmp_path / "server")
    make_package(src / "team-kit", "team-kit", "1.0.0", skills={"team-kit": "Use the kit."})
    result = cli("publish", src / "team-kit", "--registry", remote.url)
    assert result.exit_code == 0, result.output
    assert "Published team-kit 1.0.0 to a new registry at " in result.stdout
    assert "(branch main) as commit " in result.stdout
    assert remote.subjects() == ["publish team-kit 1.0.0"]
    author = git("log", "-1", "--format=%an <%ae>|%cn <%ce>", cwd=remote.bare)
    assert author == "Test <test@example.com>|Test <test@example.com>"
    assert remote.index()["format"] == 1
    assert list(remote.versions("team-kit")) == ["1.0.0"]

    use_cache("other-cache", tmp_path, monkeypatch)
    result = run_skillpm("install", "team-kit", "--registry", remote.url, cwd=project)
    assert result.exit_code == 0, result.stderr
    installed = project / ".claude/skills/team-kit/SKILL.md"
    assert installed.read_bytes() == (src / "team-kit/skills/team-kit/SKILL.md").read_bytes()
    assert lock_of(project) == {"team-kit": "1.0.0"}


def test_publish_adds_to_an_existing_registry_and_keeps_the_rest(
    cli: Cli, src: Path, project: Path, remote: GitRegistry
) -> None:
    before = remote.head
    make_package(
        src / "app", "app", "2.0.0", dependencies={"base": "^1.0"}, files={"run.sh": "#!/bin/sh\n"}
    )
    (src / "app/run.sh").chmod(0o755)
    result = cli("publish", src / "app", "--registry", remote.url)
    assert result.exit_code == 0, result.output
    assert git("rev-parse", "HEAD^", cwd=remote.bare) == before  # one commit on the old tip
    assert set(remote.index()["packages"]) == {"base", "app"}
    assert remote.index(before)["packages"]["base"] == remote.index()["packages"]["base"]
    mode = git("ls-tree", "HEAD", "packages/app/2.0.0/run.sh", cwd=remote.bare).split()[0]
    assert mode == "100755"
    # The same bytes a local publish verifies: installing checks the integrity. The
    # publisher's cache already knows the pushed commit, so no fetch is needed to see it.
    result = cli("install", "app", "--registry", remote.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert lock_of(project) == {"app": "2.0.0", "base": "1.1.0"}
    locked = yaml.safe_load((project / "skills.lock").read_text())["packages"]
    assert {p["commit"] for p in locked} == {remote.head}


def test_publish_to_a_branch_named_in_the_url(cli: Cli, src: Path, remote: GitRegistry) -> None:
    git("push", "-q", "origin", "HEAD:staging", cwd=remote.work)
    make_package(src / "app", "app", "1.0.0")
    result = cli("publish", src / "app", "--registry", f"{remote.url}#staging")
    assert result.exit_code == 0, result.output
    assert "(branch staging)" in result.stdout
    assert "app" in remote.index("staging")["packages"]
    assert "app" not in remote.index("main")["packages"]


def test_dry_run_shows_and_pushes_nothing(cli: Cli, src: Path, remote: GitRegistry) -> None:
    make_package(src / "app", "app", "1.0.0")
    before = snapshot(remote.bare)
    result = cli("publish", src / "app", "--registry", remote.url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"Would publish app 1.0.0 to {remote.url} (branch main) (dry run, nothing pushed)\n"
    )
    assert "skills/app/SKILL.md" in result.stdout
    assert snapshot(remote.bare) == before


def test_same_version_is_refused_and_the_server_is_unchanged(
    cli: Cli, src: Path, remote: GitRegistry
) -> None:
    make_package(src / "base", "base", "1.1.0", description="a different 1.1.0")
    before = snapshot(remote.bare)
    result = cli("publish", src / "base", "--registry", remote.url)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: base 1.1.0 is already published in registry {remote.url}; versions are "
        "immutable, so bump the version in skillpm.yaml\n"
    )
    assert snapshot(remote.bare) == before
    # A dry run says so too.
    assert cli("publish", src / "base", "--registry", remote.url, "--dry-run").exit_code == 1


def test_a_version_folder_the_index_does_not_list_is_refused(
    cli: Cli, src: Path, remote: GitRegistry
) -> None:
    stray = remote.work / "packages/app/1.0.0"
    make_package(stray, "app", "1.0.0")
    git("add", "-A", cwd=remote.work)
    git("commit", "-q", "-m", "half a publish", cwd=remote.work)
    git("push", "-q", "origin", "HEAD", cwd=remote.work)
    before = snapshot(remote.bare)
    make_package(src / "app", "app", "1.0.0")
    result = cli("publish", src / "app", "--registry", remote.url)
    assert result.exit_code == 1
    assert "packages/app/1.0.0 exists but index.json does not list it" in result.stderr
    assert f"registry {remote.url}" in result.stderr and "skillpm-write" not in result.stderr
    assert snapshot(remote.bare) == before


# --- racing publishers ------------------------------------------------------------------


@pytest.mark.parametrize("shared_cache", [False, True], ids=["two-authors", "one-cache"])
def test_two_processes_publishing_different_packages_both_land(
    src: Path, remote: GitRegistry, tmp_path: Path, shared_cache: bool
) -> None:
    barrier(remote, tmp_path)
    procs = []
    for name in ("alpha", "beta"):
        make_package(src / name, name, "1.0.0")
        cache = tmp_path / ("cache" if shared_cache else f"cache-{name}")
        procs.append(
            spawn_skillpm(
                "publish",
                src / name,
                "--registry",
                remote.url,
                cwd=tmp_path,
                env={"SKILLPM_CACHE_DIR": str(cache)},
            )
        )
    results = [finish(p) for p in procs]
    for result in results:
        assert result.exit_code == 0, result.output
    assert set(remote.index()["packages"]) == {"base", "alpha", "beta"}
    # Exactly one lost the race and applied its publish again on the winner's commit.
    retried = [r for r in results if "Another publish reached main first" in r.stdout]
    assert len(retried) == 1
    assert sorted(remote.subjects()[:2]) == ["publish alpha 1.0.0", "publish beta 1.0.0"]
    assert git("rev-list", "--count", "HEAD", cwd=remote.bare) == "3"  # linear history


def test_four_authors_at_once_all_land(src: Path, remote: GitRegistry, tmp_path: Path) -> None:
    """No gate: the races fall as they may. Each lost attempt means another publish
    landed, so with four publishers no one needs more than four attempts."""
    names = ["alpha", "beta", "gamma", "delta"]
    procs = []
    for name in names:
        make_package(src / name, name, "1.0.0")
        env = {"SKILLPM_CACHE_DIR": str(tmp_path / f"cache-{name}")}
        procs.append(
            spawn_skillpm("publish", src / name, "--registry", remote.url, cwd=tmp_path, env=env)
        )
    for result in [finish(p) for p in procs]:
        assert result.exit_code == 0, result.output
    assert set(remote.index()["packages"]) == {"base", *names}
    assert git("rev-list", "--count", "HEAD", cwd=remote.bare) == "5"


def test_two_processes_publishing_the_same_version_one_wins(
    src: Path, remote: GitRegistry, tmp_path: Path
) -> None:
    barrier(remote, tmp_path)
    procs = []
    for author in ("ann", "bob"):
        make_package(src / author / "app", "app", "1.0.0", description=f"{author}'s app")
        procs.append(
            spawn_skillpm(
                "publish",
                src / author / "app",
                "--registry",
                remote.url,
                cwd=tmp_path,
                env={"SKILLPM_CACHE_DIR": str(tmp_path / f"cache-{author}")},
            )
        )
    results = [finish(p) for p in procs]
    assert sorted(r.exit_code for r in results) == [0, 1], [r.output for r in results]
    winner = next(r for r in results if r.exit_code == 0)
    loser = next(r for r in results if r.exit_code == 1)
    assert loser.stderr.endswith(
        f"error: app 1.0.0 is already published in registry {remote.url}; versions are "
        "immutable, so bump the version in skillpm.yaml\n"
    )
    assert "Traceback" not in loser.output
    assert list(remote.versions("app")) == ["1.0.0"]
    assert remote.subjects().count("publish app 1.0.0") == 1
    description = remote.versions("app")["1.0.0"]["description"]
    assert ("ann" if "ann" in description else "bob") in description
    assert "Published app 1.0.0" in winner.stdout


def test_branch_moved_between_fetch_and_push_applies_again(
    cli: Cli, src: Path, remote: GitRegistry, tmp_path: Path
) -> None:
    """A real concurrent pusher: the server's hook pushes another publish first."""
    other = remote.commit([{"name": "other", "version": "1.0.0"}], "publish other 1.0.0")
    fired = tmp_path / "fired"
    remote.hook(
        "pre-receive",
        f"""cat >/dev/null
if [ ! -e "{fired}" ]; then
  touch "{fired}"
  env -u GIT_DIR -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY \\
      -u GIT_ALTERNATE_OBJECT_DIRECTORIES git -C "{remote.work}" push -q origin HEAD
fi
""",
    )
    make_package(src / "app", "app", "1.0.0")
    result = cli("publish", src / "app", "--registry", remote.url)
    assert result.exit_code == 0, result.output
    assert "Another publish reached main first; applying again on top of it (attempt 2 of 5)" in (
        result.stdout
    )
    assert remote.subjects()[:2] == ["publish app 1.0.0", "publish other 1.0.0"]
    assert git("rev-parse", "HEAD^", cwd=remote.bare) == other
    assert set(remote.index()["packages"]) == {"base", "other", "app"}


def test_retries_are_bounded(cli: Cli, src: Path, remote: GitRegistry, tmp_path: Path) -> None:
    """A branch that always moves first: five attempts, then one clear line."""
    remote.hook(
        "pre-receive",
        f"""cat >/dev/null
[ -n "$INNER_PUSH" ] && exit 0  # the hook's own push passes
env -u GIT_DIR -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY \\
    -u GIT_ALTERNATE_OBJECT_DIRECTORIES INNER_PUSH=1 sh -c \\
    'git -C "{remote.work}" commit -q --allow-empty -m busy && \\
     git -C "{remote.work}" push -q origin HEAD'
""",
    )
    make_package(src / "app", "app", "1.0.0")
    result = cli("publish", src / "app", "--registry", remote.url)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: registry {remote.url}: other publishes reached branch main first 5 times in a "
        "row; nothing was pushed; run the command again\n"
    )
    assert result.stdout.count("Another publish reached main first") == 4
    assert "app" not in remote.index()["packages"]
    assert remote.subjects().count("busy") == 5


def test_a_push_the_server_declines_is_not_retried(
    cli: Cli, src: Path, remote: GitRegistry, tmp_path: Path
) -> None:
    calls = tmp_path / "calls"
    remote.hook(
        "pre-receive",
        f'cat >/dev/null\necho x >> "{calls}"\necho "publishing is frozen until Monday"\nexit 1\n',
    )
    before = snapshot(remote.bare)
    make_package(src / "app", "app", "1.0.0")
    result = cli("publish", src / "app", "--registry", remote.url)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: registry {remote.url}: the remote refused the push to branch main (remote "
        "rejected: pre-receive hook declined; the remote said: publishing is frozen until "
        "Monday); nothing was pushed\n"
    )
    assert calls.read_text() == "x\n"
    assert snapshot(remote.bare) == before


# --- yank / unyank ----------------------------------------------------------------------


def test_yank_and_unyank_through_git(
    cli: Cli, remote: GitRegistry, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("install", "base", "--registry", remote.url, cwd=project).exit_code == 0
    assert lock_of(project) == {"base": "1.1.0"}

    result = cli("yank", "base", "1.1.0", "--reason", "wrong account ids", "--registry", remote.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Yanked base 1.1.0 in {remote.url} (branch main) as commit ")
    entry = remote.versions("base")["1.1.0"]
    assert entry["yanked"] is True and entry["yank-reason"] == "wrong account ids"
    assert remote.subjects()[0] == "yank base 1.1.0"
    assert git("log", "-1", "--format=%b", cwd=remote.bare) == "wrong account ids"
    assert git("diff", "--name-only", "HEAD^", "HEAD", cwd=remote.bare) == "index.json"

    # Another author resolving anew skips it; the existing lock still installs it.
    use_cache("other-cache", tmp_path, monkeypatch)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert cli("install", "base", "--registry", remote.url, cwd=fresh).exit_code == 0
    assert lock_of(fresh) == {"base": "1.0.0"}
    shutil.rmtree(project / ".claude")
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 0, result.output
    assert "+ base 1.1.0" in result.stdout

    head = remote.head
    again = cli("yank", "base", "1.1.0", "--registry", remote.url)
    assert again.exit_code == 0 and "was already yanked" in again.stdout
    assert remote.head == head  # nothing to commit, nothing pushed

    result = cli("unyank", "base", "1.1.0", "--registry", remote.url)
    assert result.exit_code == 0, result.output
    assert "base 1.1.0 is no longer yanked" in result.stdout
    assert remote.versions("base")["1.1.0"]["yanked"] is False
    assert remote.subjects()[0] == "unyank base 1.1.0"


def test_yank_of_an_unknown_version_via_git(cli: Cli, remote: GitRegistry) -> None:
    before = snapshot(remote.bare)
    result = cli("yank", "base", "9.9.9", "--registry", remote.url)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: registry {remote.url}: base has no version 9.9.9 (it has 1.0.0, 1.1.0)\n"
    )
    assert snapshot(remote.bare) == before


# --- errors: one line, nothing pushed ---------------------------------------------------


def fails(cli: Cli, *args: str | Path) -> str:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


def test_unreachable_remote(cli: Cli, src: Path, tmp_path: Path) -> None:
    make_package(src / "app", "app", "1.0.0")
    url = f"git+{(tmp_path / 'nowhere.git').as_uri()}"
    message = fails(cli, "publish", src / "app", "--registry", url)
    assert message.startswith(f"error: registry {url}: cannot reach the remote (")
    assert "nothing was pushed" in message
    assert not (Path(os.environ["SKILLPM_CACHE_DIR"]) / "git").exists()
    assert "cannot reach the remote" in fails(cli, "yank", "app", "1.0.0", "--registry", url)


def test_credentials_never_shown(cli: Cli, src: Path) -> None:
    make_package(src / "app", "app", "1.0.0")
    url = "git+https://ann:s3cret-token@127.0.0.1:9/acme/registry.git"
    message = fails(cli, "publish", src / "app", "--registry", url)
    assert "cannot reach the remote" in message
    assert "s3cret" not in message and "***@127.0.0.1" in message


def test_git_missing(src: Path, remote: GitRegistry, tmp_path: Path) -> None:
    make_package(src / "app", "app", "1.0.0")
    no_tools = tmp_path / "no-tools"
    no_tools.mkdir()
    before = snapshot(remote.bare)
    result = run_skillpm(
        "publish", src / "app", "--registry", remote.url, cwd=tmp_path, env={"PATH": str(no_tools)}
    )
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "error: git is not installed or not on PATH; install git to use git registries\n"
    )
    assert snapshot(remote.bare) == before


def test_not_a_registry(cli: Cli, src: Path, tmp_path: Path) -> None:
    remote = empty_git_repo(tmp_path / "server")
    work = tmp_path / "plain"
    git("clone", "-q", remote.bare, work, cwd=tmp_path)
    (work / "README.md").write_text("not a registry\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "readme", cwd=work)
    git("push", "-q", "origin", "HEAD", cwd=work)
    before = snapshot(remote.bare)
    make_package(src / "app", "app", "1.0.0")
    message = fails(cli, "publish", src / "app", "--registry", remote.url)
    assert "not a registry (no index.json on branch main at commit" in message
    assert snapshot(remote.bare) == before


def test_damaged_index_is_named_by_the_registry(cli: Cli, src: Path, remote: GitRegistry) -> None:
    (remote.work / "index.json").write_text("{not json")
    git("commit", "-q", "-am", "oops", cwd=remote.work)
    git("push", "-q", "origin", "HEAD", cwd=remote.work)
    make_package(src / "app", "app", "1.0.0")
    message = fails(cli, "publish", src / "app", "--registry", remote.url)
    assert message.startswith(f"error: registry {remote.url}")
    assert "skillpm-write" not in message


def test_no_git_identity(
    cli: Cli, src: Path, remote: GitRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "no-identity.gitconfig"
    config.write_text('[protocol "file"]\n\tallow = always\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    before = snapshot(remote.bare)
    make_package(src / "app", "app", "1.0.0")
    message = fails(cli, "publish", src / "app", "--registry", remote.url)
    assert message.startswith("error: git has no author identity for the publish commit; ")
    assert "git config --global user.email" in message
    assert snapshot(remote.bare) == before
    # A dry run commits nothing, so it needs no identity.
    assert cli("publish", src / "app", "--registry", remote.url, "--dry-run").exit_code == 0
    # Git's own variables are an identity too (CI jobs set them).
    monkeypatch.setenv("GIT_AUTHOR_NAME", "CI")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ci@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "CI")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ci@example.com")
    assert cli("publish", src / "app", "--registry", remote.url).exit_code == 0
    assert git("log", "-1", "--format=%an", cwd=remote.bare) == "CI"


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("#v1", "'v1' is a tag, which cannot move; publish to a branch"),
        ("#nope", "no branch 'nope' on the remote; create it first"),
        ("#" + "0" * 40, "is a commit, which cannot move; publish to a branch"),
    ],
)
def test_refs_that_cannot_be_published_to(
    cli: Cli, src: Path, remote: GitRegistry, suffix: str, expected: str
) -> None:
    git("tag", "v1", cwd=remote.work)
    git("push", "-q", "origin", "v1", cwd=remote.work)
    before = snapshot(remote.bare)
    make_package(src / "app", "app", "1.0.0")
    assert expected in fails(cli, "publish", src / "app", "--registry", remote.url + suffix)
    assert snapshot(remote.bare) == before
