"""Credentials in registry URLs never reach output, errors, logs, the lock or the cache,
and unexpected failures exit 3 with one line pointing to a log that has the traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skillpm.output import redact
from tests.helpers import Cli, GitRegistry, make_git_registry, run_skillpm

SECRET = "s3cret-T0KEN"
SECRET_URLS = [
    f"https://deploy:{SECRET}@git.example.invalid/acme/registry.git",
    f"https://x-access-token:{SECRET}@github.com/acme/skills.git",
]
SPECS = [
    {"name": "base", "skills": {"base": ""}},
    {"name": "app", "skills": {"app": ""}, "dependencies": {"base": "^1"}},
]


def _serve_as(remote: GitRegistry, home: Path, url: str) -> None:
    """Make git fetch ``url`` (with its token) from the local bare repository."""
    with open(home / ".gitconfig", "a") as f:
        f.write(f'[url "{remote.bare.as_uri()}"]\n\tinsteadOf = {url}\n')


def _files_holding(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:tok@host/x", "https://***@host/x"),
        (
            "git+https://x-access-token:ghs_abc@github.com/o/r.git",
            "git+https://***@github.com/o/r.git",
        ),
        ("https://u:p@ss@host/x", "https://***@host/x"),  # an unencoded @ in the password
        ("ssh://git:tok@host:22/r", "ssh://***@host:22/r"),
        ("see https://a:b@h/x and https://c:d@i/y", "see https://***@h/x and https://***@i/y"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://host/path@v1", "https://host/path@v1"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize("secret_url", SECRET_URLS)
def test_a_token_never_leaves_skills_yaml(
    cli: Cli, project: Path, tmp_path: Path, isolated_env: Path, secret_url: str
) -> None:
    remote = make_git_registry(tmp_path / "remote", SPECS)
    _serve_as(remote, isolated_env, secret_url)
    url = f"git+{secret_url}"
    commands: list[tuple[str, ...]] = [
        ("install", "app", "--registry", url),
        ("list",),
        ("list", "--json"),
        ("registry", "list"),
        ("registry", "list", "--json"),
        ("info", "app"),
        ("info", "app", "--json"),
        ("search", "a"),
        ("outdated",),
        ("update", "--refresh"),
        ("why", "base"),
        ("tree",),
        ("doctor",),
        ("diff",),
        ("sync",),
        ("lint",),
        ("install", "--frozen"),
        ("remove", "app"),
        ("install", "nope", "--registry", url),  # an error that names the registry
    ]
    for args in commands:
        for verbosity in ("-vv",):
            result = cli(verbosity, *args, cwd=project)
            assert result.exit_code == (1 if "nope" in args else 0), (args, result.output)
            assert SECRET not in result.output, (args, result.output)
            lock = (project / "skills.lock").read_text()
            assert SECRET not in lock
            if args == ("list",):
                assert "git+https://***@" in lock
    assert "***@" in cli("registry", "list", cwd=project).stdout
    # Only the file the user wrote holds the token; the cache (mirrors, unpacked
    # packages, logs) and every other project file never do.
    holding = _files_holding(project, SECRET) + _files_holding(isolated_env / "cache", SECRET)
    assert holding == [project / "skills.yaml"]


def test_a_token_is_redacted_from_fetch_errors_at_any_verbosity(cli: Cli, project: Path) -> None:
    url = f"git+https://deploy:{SECRET}@127.0.0.1:9/acme/registry.git"
    for verbosity in ((), ("-v",), ("-vv",)):
        result = cli(*verbosity, "install", "app", "--registry", url, cwd=project)
        assert result.exit_code == 1
        assert SECRET not in result.output
        assert "***@127.0.0.1:9" in result.stderr
        assert result.stderr.count("\n") == 1


def test_unexpected_failure_exits_3_with_one_line_and_a_log(
    cli: Cli,
    project: Path,
    tmp_path: Path,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug (here: a function that raises) is exit 3, one line, and a log with the
    traceback, none of which holds the token from the command line or the message."""
    from skillpm.install import installer

    remote = make_git_registry(tmp_path / "remote", SPECS)
    _serve_as(remote, isolated_env, SECRET_URLS[0])
    url = f"git+{SECRET_URLS[0]}"

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"cannot apply the plan for {url}\nsecond line")

    monkeypatch.setattr(installer, "apply", broken)
    result = cli("-vv", "install", "app", "--registry", url, cwd=project)
    assert result.exit_code == 3
    assert SECRET not in result.stdout
    assert "preparing app 1.0.0 from registry (git+https://***@" in result.stderr  # -vv
    lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: unexpected failure (RuntimeError: cannot apply the plan")
    assert SECRET not in result.stderr and "second line" not in result.stderr
    match = re.search(r"the details are in (\S+\.log)$", lines[0])
    assert match, lines[0]
    log = Path(match[1])
    assert log.parent == isolated_env / "cache/logs"
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "in broken" in text and "RuntimeError: cannot apply the plan" in text
    assert "second line" in text
    assert "'-vv', 'install', 'app', '--registry', 'git+https://***@git.example" in text
    assert SECRET not in text
    assert not (project / ".claude/.skillpm-staging").exists()  # rolled back
    assert not (project / "skills.lock").exists()


def test_unexpected_failure_logs_to_the_temp_folder_when_the_cache_is_unusable(
    tmp_path: Path, project: Path
) -> None:
    """A real failure in a real process: the cache path is a file, so nothing can be
    created under it, not even the log."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    temp = tmp_path / "temp"
    temp.mkdir()
    result = run_skillpm(
        "install",
        cwd=project,
        env={"SKILLPM_CACHE_DIR": str(blocker), "TMPDIR": str(temp)},
    )
    assert result.exit_code == 3, result.output
    assert result.stderr.count("\n") == 1
    assert "unexpected failure" in result.stderr
    logs = list(temp.glob("skillpm-*.log"))
    assert len(logs) == 1 and str(logs[0]) in result.stderr
    assert "Traceback (most recent call last)" in logs[0].read_text()
