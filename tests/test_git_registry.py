"""Git registries end to end: real bare repositories served over file://, real pushes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import Cli, GitRegistry, git, make_git_registry, run_skillpm, snapshot

SPECS = [
    {"name": "base", "version": "1.0.0"},
    {"name": "app", "version": "1.0.0", "dependencies": {"base": "^1.0"}},
]


@pytest.fixture
def remote(tmp_path: Path) -> GitRegistry:
    return make_git_registry(tmp_path / "server", SPECS)


def lock_of(project: Path) -> dict[str, dict[str, str]]:
    data = yaml.safe_load((project / "skills.lock").read_text())
    return {p["name"]: p for p in data["packages"]}


def copy_project(project: Path, dest: Path) -> Path:
    dest.mkdir()
    for name in ("skills.yaml", "skills.lock"):
        shutil.copy(project / name, dest / name)
    return dest


def cache() -> Path:
    return Path(os.environ["SKILLPM_CACHE_DIR"])


def test_done_when(cli: Cli, project: Path, remote: GitRegistry, tmp_path: Path) -> None:
    """The issue's end-to-end story, step by step."""
    first = remote.head
    result = cli("install", "app", "--registry", remote.url, cwd=project)
    assert result.exit_code == 0, result.output
    locked = lock_of(project)
    assert locked["base"]["version"] == "1.0.0"
    assert locked["base"]["commit"] == first and locked["app"]["commit"] == first
    assert locked["base"]["registry"] == remote.url
    old = copy_project(project, tmp_path / "old-copy")
    offline_copy = copy_project(project, tmp_path / "offline-copy")

    second = remote.push([{"name": "base", "version": "1.1.0"}])
    # Fetched moments ago: the cached view stands until --refresh (or the interval passes).
    assert "base" not in cli("outdated", cwd=project).stdout
    shown = cli("outdated", "--refresh", cwd=project)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.split("\n")[1].split() == ["base", "1.0.0", "1.1.0", "1.1.0", "dependency"]

    moved = cli("update", cwd=project)
    assert moved.exit_code == 0, moved.output
    assert "+ base 1.1.0" in moved.stdout
    assert lock_of(project)["base"]["version"] == "1.1.0"
    assert lock_of(project)["base"]["commit"] == second

    # The old lock still installs the old bytes, though the branch moved on.
    frozen = cli("install", "--frozen", cwd=old)
    assert frozen.exit_code == 0, frozen.output
    assert lock_of(old)["base"]["version"] == "1.0.0"
    assert (old / ".claude/skills/base/SKILL.md").is_file()

    # Remote gone, cache warm: still installs, without the network.
    shutil.rmtree(remote.bare)
    again = cli("install", "--frozen", "--offline", cwd=offline_copy)
    assert again.exit_code == 0, again.output
    assert (offline_copy / ".claude/skills/app/SKILL.md").is_file()


def test_cold_cache_offline_fails_cleanly(
    cli: Cli, project: Path, remote: GitRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli("install", "app", "--registry", remote.url, cwd=project)
    shutil.rmtree(project / ".claude")
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cold-cache"))
    before = snapshot(project)
    result = cli("install", "--frozen", "--offline", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "--offline forbids fetching" in result.stderr and "registry" in result.stderr
    assert snapshot(project) == before


def test_offline_resolution_from_a_cold_cache_fails_cleanly(
    cli: Cli, project: Path, remote: GitRegistry
) -> None:
    result = cli("install", "app", "--registry", remote.url, "--offline", cwd=project)
    assert result.exit_code == 1
    assert "is not in the cache and --offline forbids fetching it" in result.stderr
    assert list(project.iterdir()) == []


def test_locked_commit_is_fetched_when_the_mirror_lacks_it(
    cli: Cli, project: Path, remote: GitRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("install", "base@1.0.0", "--registry", remote.url, cwd=project)
    old = copy_project(project, tmp_path / "old")
    remote.push([{"name": "base", "version": "2.0.0"}])
    # A new cache whose mirror knows only the new tip (shallow), then the old lock.
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cache2"))
    other = tmp_path / "other"
    other.mkdir()
    assert cli("install", "base", "--registry", remote.url, cwd=other).exit_code == 0
    assert lock_of(other)["base"]["version"] == "2.0.0"
    result = cli("install", "--frozen", cwd=old)
    assert result.exit_code == 0, result.output
    assert lock_of(old)["base"]["version"] == "1.0.0"
    # And from a cache with nothing at all: the commit is fetched by its id.
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cache3"))
    shutil.rmtree(old / ".claude")
    assert cli("install", "--frozen", cwd=old).exit_code == 0


def test_second_project_installs_without_git(
    cli: Cli, project: Path, remote: GitRegistry, tmp_path: Path
) -> None:
    cli("install", "app", "--registry", remote.url, cwd=project)
    second = copy_project(project, tmp_path / "second")
    empty_path = tmp_path / "no-tools"
    empty_path.mkdir()
    result = run_skillpm("install", "--frozen", cwd=second, env={"PATH": str(empty_path)})
    assert result.exit_code == 0, result.output
    assert (second / ".claude/skills/app/SKILL.md").is_file()


def test_new_name_fetches_despite_a_fresh_cache(
    cli: Cli, project: Path, remote: GitRegistry
) -> None:
    cli("install", "base", "--registry", remote.url, cwd=project)
    remote.push([{"name": "extra", "version": "0.1.0"}])
    result = cli("install", "extra", cwd=project)
    assert result.exit_code == 0, result.output
    assert "+ extra 0.1.0" in result.stdout


def test_missing_version_fetches_despite_a_fresh_cache(
    cli: Cli, project: Path, remote: GitRegistry
) -> None:
    cli("install", "base", "--registry", remote.url, cwd=project)
    remote.push([{"name": "base", "version": "1.2.0"}])
    result = cli("install", "base@^1.2", cwd=project)
    assert result.exit_code == 0, result.output
    assert lock_of(project)["base"]["version"] == "1.2.0"


def test_fetch_interval_is_configurable(
    cli: Cli, project: Path, remote: GitRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("install", "base", "--registry", remote.url, cwd=project)
    remote.push([{"name": "base", "version": "1.0.1"}])
    assert "1.0.1" not in cli("outdated", cwd=project).stdout
    monkeypatch.setenv("SKILLPM_FETCH_INTERVAL", "0")
    assert "1.0.1" in cli("outdated", cwd=project).stdout
    monkeypatch.setenv("SKILLPM_FETCH_INTERVAL", "soon")
    bad = cli("outdated", cwd=project)
    assert bad.exit_code == 2 and "SKILLPM_FETCH_INTERVAL" in bad.stderr


def test_offline_uses_a_stale_cache(
    cli: Cli, project: Path, remote: GitRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli("install", "base", "--registry", remote.url, cwd=project)
    shutil.rmtree(remote.bare)
    monkeypatch.setenv("SKILLPM_FETCH_INTERVAL", "0")
    other = tmp_path / "other"
    other.mkdir()
    result = cli("install", "base", "--registry", remote.url, "--offline", cwd=other)
    assert result.exit_code == 0, result.output
    assert "+ base 1.0.0" in result.stdout
    # What was never fetched (the mirror holds no blobs it did not need) is named.
    missing = cli("install", "app", "--offline", cwd=other)
    assert missing.exit_code == 1
    assert "the files of app 1.0.0 are not in the cache and --offline forbids" in missing.stderr
    both = cli("install", "--offline", "--refresh", cwd=project)
    assert both.exit_code == 2 and "contradict" in both.stderr


@pytest.mark.parametrize("kind", ["tag", "branch", "commit"])
def test_ref_in_url(cli: Cli, project: Path, remote: GitRegistry, kind: str) -> None:
    first = remote.head
    git("tag", "v1", cwd=remote.work)
    git("branch", "stable", cwd=remote.work)
    git("push", "-q", "origin", "v1", "stable", cwd=remote.work)
    remote.push([{"name": "base", "version": "1.5.0"}])
    ref = {"tag": "v1", "branch": "stable", "commit": first}[kind]
    result = cli("install", "base", "--registry", f"{remote.url}#{ref}", cwd=project)
    assert result.exit_code == 0, result.output
    assert lock_of(project)["base"]["version"] == "1.0.0"
    assert lock_of(project)["base"]["commit"] == first
    assert lock_of(project)["base"]["registry"] == f"{remote.url}#{ref}"


def test_full_clone_server_without_filters(cli: Cli, project: Path, tmp_path: Path) -> None:
    plain = make_git_registry(tmp_path / "plain", SPECS, allow_filter=False)
    result = cli("install", "app", "--registry", plain.url, cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / ".claude/skills/base/SKILL.md").is_file()


def test_info_and_search_read_a_git_registry(cli: Cli, project: Path, remote: GitRegistry) -> None:
    cli("registry", "add", "team", remote.url, cwd=project)
    info = cli("info", "app", cwd=project)
    assert info.exit_code == 0, info.output
    assert "app 1.0.0  (team" in info.stdout
    assert "base" in cli("search", "base", cwd=project).stdout


def test_credentials_are_never_shown_or_stored(
    cli: Cli, project: Path, remote: GitRegistry, isolated_env: Path
) -> None:
    secret_url = "https://deploy:s3cret-token@git.example.invalid/acme/registry.git"
    with open(isolated_env / ".gitconfig", "a") as f:
        f.write(f'[url "{remote.bare.as_uri()}"]\n\tinsteadOf = {secret_url}\n')
    result = cli("install", "app", "--registry", f"git+{secret_url}", cwd=project)
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert lock_of(project)["app"]["registry"] == (
        "git+https://***@git.example.invalid/acme/registry.git"
    )
    for path in cache().rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path
    listing = cli("registry", "list", cwd=project)
    assert "s3cret" not in listing.output and "***@git.example.invalid" in listing.stdout
    # A frozen install matches the lock's redacted URL to skills.yaml's.
    shutil.rmtree(project / ".claude")
    assert cli("install", "--frozen", cwd=project).exit_code == 0


def test_credentials_are_redacted_in_errors(cli: Cli, project: Path) -> None:
    url = "git+https://deploy:s3cret-token@127.0.0.1:9/acme/registry.git"
    result = cli("install", "app", "--registry", url, cwd=project)
    assert result.exit_code == 1
    assert "s3cret" not in result.output
    assert "***@127.0.0.1:9" in result.stderr


def test_mirror_lock_waits_says_so_then_rechecks(
    project: Path, tmp_path: Path, isolated_env: Path
) -> None:
    """A second process waits for the mirror, then finds it fresh and does not fetch."""
    import subprocess
    import sys
    import threading

    from skillpm import store
    from skillpm.registry.base import RemoteOptions
    from skillpm.registry.git import GitRegistry as Transport
    from tests.helpers import SRC

    plain = make_git_registry(tmp_path / "plain", SPECS, allow_filter=False)
    transport = Transport("team", plain.url, RemoteOptions())
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with store.mirror_lock(transport.key, "test"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "skillpm", "install", "app", "--registry", plain.url],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        first_line: list[str] = []
        reader = threading.Thread(target=lambda: first_line.append(proc.stderr.readline()))
        reader.start()
        reader.join(timeout=60)
        assert first_line and "waiting for another skillpm process" in first_line[0]
        # Meanwhile "the other process" fetches, then the remote disappears: only a
        # re-check of the fresh mirror lets the waiting process succeed.
        transport._fetch("HEAD", transport._dest)
        store.mark_fetched(transport.mirror.path, "HEAD")
        shutil.rmtree(plain.bare)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "+ app 1.0.0" in out


def test_mirror_is_built_in_a_temp_dir_and_renamed(
    cli: Cli, project: Path, remote: GitRegistry
) -> None:
    assert cli("install", "app", "--registry", remote.url, cwd=project).exit_code == 0
    mirrors = list((cache() / "git").iterdir())
    assert len(mirrors) == 1 and not mirrors[0].name.startswith(".tmp")
    assert (mirrors[0] / "HEAD").is_file()
    packages = sorted(p.name for p in (cache() / "packages").iterdir())
    assert len(packages) == 2 and all(p.startswith("sha256-") for p in packages)


def test_a_cache_entry_holding_a_link_is_unpacked_again(
    cli: Cli, project: Path, remote: GitRegistry, tmp_path: Path
) -> None:
    """A damaged package in the cache is replaced from the mirror, not an error."""
    assert cli("install", "app", "--registry", remote.url, cwd=project).exit_code == 0
    cached = cache() / "packages" / lock_of(project)["app"]["integrity"].replace(":", "-")
    (cached / "skills/app/link.md").symlink_to(cached / "skills/app/SKILL.md")
    second = copy_project(project, tmp_path / "second")
    result = cli("install", "--frozen", cwd=second)
    assert result.exit_code == 0, result.output
    assert not (cached / "skills/app/link.md").exists()
    assert snapshot(second / ".claude") == snapshot(project / ".claude")


@pytest.mark.parametrize("form", ["scp", "ssh"])
def test_ssh_transports(
    cli: Cli,
    project: Path,
    remote: GitRegistry,
    tmp_path: Path,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    form: str,
) -> None:
    """git@host:path and git+ssh:// run git's real ssh transport (ssh itself stubbed to
    run the remote command locally, as sshd would)."""
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text('#!/bin/sh\nfor last; do :; done\nexec sh -c "$last"\n')
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    with open(isolated_env / ".gitconfig", "a") as f:
        f.write("[ssh]\n\tvariant = ssh\n")
    path = remote.bare.as_posix()
    url = f"git@localhost:{path}" if form == "scp" else f"git+ssh://git@localhost{path}"
    result = cli("install", "app", "--registry", url, cwd=project)
    assert result.exit_code == 0, result.output
    locked = lock_of(project)["app"]
    assert locked["commit"] == remote.head
    assert locked["registry"] == (url if form == "scp" else f"git+ssh://***@localhost{path}")
    shutil.rmtree(project / ".claude")
    assert cli("install", "--frozen", cwd=project).exit_code == 0
