"""Crash consistency: a run killed at any step leaves the old state or the new one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from skillpm.project.transaction import CRASH_AFTER_ENV, Transaction, recover_interrupted
from tests.helpers import Cli, make_registry, run_killed, run_skillpm, snapshot, write_tree


def test_error_during_commit_restores_everything(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {".claude/skills/a/x.txt": "old a", "CLAUDE.md": "keep", ".claude/rules": "a file"},
    )
    before = snapshot(root)
    txn = Transaction(root / ".staging", root)
    new_a = txn.new_dir("a")
    (new_a / "x.txt").write_text("new a")
    txn.replace_dir(root / ".claude/skills/a", new_a)
    txn.write_file(root / "CLAUDE.md", b"changed")
    bad = txn.new_dir("bad")
    txn.replace_dir(root / ".claude/rules/child.md", bad)  # parent is a file: this swap fails
    with pytest.raises(OSError):
        txn.commit()
    assert snapshot(root) == before
    assert not (root / ".staging").exists()


def test_rollback_before_commit_touches_nothing(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"CLAUDE.md": "old"})
    before = snapshot(root)
    with pytest.raises(RuntimeError), Transaction(root / ".staging", root) as txn:
        txn.write_file(root / "CLAUDE.md", b"new")
        raise RuntimeError("boom")
    assert snapshot(root) == before


def test_planted_journal_cannot_escape_the_project(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.txt": "do not move"})
    root = tmp_path / "p"
    txn_dir = root / ".claude/.skillpm-staging/txn-1"
    txn_dir.mkdir(parents=True)
    (txn_dir / "journal.json").write_text(
        json.dumps([{"target": "../outside/secret.txt", "staged": None, "backup": "old/1"}])
    )
    recover_interrupted(root / ".claude/.skillpm-staging", root)
    assert (outside / "secret.txt").read_text() == "do not move"
    assert not (root / ".claude").exists()


@pytest.fixture
def crash_registry(tmp_path: Path) -> Path:
    packages = [
        {"name": f"pkg-{i}", "skills": {f"skill-{i}": "", f"extra-{i}": ""}} for i in range(4)
    ]
    packages.append(
        {"name": "pkg-0", "version": "2.0.0", "skills": {"skill-0": "v2", "extra-0": "v2"}}
    )
    return make_registry(tmp_path / "reg", packages)


def _state(project: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(project).items() if ".skillpm-staging" not in k}


def test_sigkill_at_every_step_gives_old_or_new(
    cli: Cli, tmp_path: Path, crash_registry: Path
) -> None:
    """A multi-package install killed at every step (a forked process, SIGKILL)."""
    base = tmp_path / "base"
    base.mkdir()
    result = cli("install", "pkg-0@^1", "pkg-1", "--registry", crash_registry, cwd=base)
    assert result.exit_code == 0, result.output
    old = _state(base)
    reference = tmp_path / "reference"
    shutil.copytree(base, reference)
    args = ("install", "pkg-0@^2", "pkg-2", "pkg-3")
    assert cli(*args, cwd=reference).exit_code == 0
    new = _state(reference)
    assert old != new

    outcomes: list[str] = []
    for step in range(1, 60):
        project = tmp_path / f"crash-{step}"
        shutil.copytree(base, project)
        code = run_killed(*args, cwd=project, step=step)
        if code == 0:
            assert _state(project) == new
            break
        assert code == -9  # killed by SIGKILL
        # The next run finishes or drops the interrupted change before anything else.
        recover_interrupted(project / ".claude/.skillpm-staging", project)
        state = _state(project)
        assert state in (old, new), f"mixed state after a kill at step {step}"
        outcomes.append("new" if state == new else "old")
        rerun = cli(*args, cwd=project)
        assert rerun.exit_code == 0, rerun.output
        assert _state(project) == new
        assert not (project / ".claude/.skillpm-staging").exists()
        assert sorted(p.name for p in (project / ".claude").iterdir()) == ["skills"]
    else:
        pytest.fail("the install never completed")
    assert len(outcomes) >= 10 and "old" in outcomes and "new" in outcomes


def test_next_command_recovers_a_killed_run(tmp_path: Path, crash_registry: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    killed = run_skillpm(
        "install",
        "pkg-1",
        "pkg-2",
        "--registry",
        crash_registry,
        cwd=project,
        env={CRASH_AFTER_ENV: "5"},
    )
    assert killed.exit_code == -9
    assert (project / ".claude/.skillpm-staging").exists()
    result = run_skillpm("install", cwd=project)
    assert result.exit_code == 0, result.stderr
    assert not (project / ".claude/.skillpm-staging").exists()
    assert (project / ".claude/skills/skill-2/SKILL.md").is_file()


def _plant(project: Path, swaps: list[dict[str, str | None]], files: dict[str, str]) -> Path:
    """A transaction folder as a hostile checkout could commit it."""
    txn = project / ".claude/.skillpm-staging/txn-1-planted"
    txn.mkdir(parents=True)
    write_tree(txn, files)
    (txn / "journal.json").write_text(json.dumps(swaps))
    return txn


def test_planted_journal_cannot_write_outside_what_skillpm_manages(
    cli: Cli, tmp_path: Path
) -> None:
    """A checkout cannot write .git/ itself; a journal must not do it for the checkout."""
    project = write_tree(tmp_path / "p", {".git/hooks/.keep": "", ".env": "SECRET=1"})
    _plant(
        project,
        [
            {"target": ".git/hooks/post-checkout", "staged": "new/1-hook", "backup": "old/1"},
            {"target": ".env", "staged": None, "backup": "old/2"},
        ],
        {"new/1-hook": "#!/bin/sh\necho pwned\n"},
    )
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    assert "not a change skillpm started" in result.stderr
    assert not (project / ".git/hooks/post-checkout").exists()
    assert (project / ".env").read_text() == "SECRET=1"
    assert not (project / ".claude").exists()


def test_planted_journal_with_links_is_dropped(cli: Cli, tmp_path: Path) -> None:
    """Links inside the transaction folder, or on the way to a target, lead outside."""
    home = write_tree(tmp_path / "home", {".bashrc": "# mine\n", "notes/a.txt": "keep"})
    project = write_tree(tmp_path / "p", {"CLAUDE.md": "# evil\n"})
    txn = _plant(
        project,
        [{"target": "CLAUDE.md", "staged": None, "backup": "old/.bashrc"}],
        {},
    )
    (txn / "old").symlink_to(home)
    second = project / ".claude/.skillpm-staging/txn-2-planted"
    write_tree(second, {"new/1-x/SKILL.md": "x"})
    (second / "journal.json").write_text(
        json.dumps([{"target": ".claude/skills/x", "staged": "new/1-x", "backup": "old/1"}])
    )
    (project / ".claude/skills").symlink_to(home / "notes")
    before_home = snapshot(home)
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("not a change skillpm started") == 2
    assert snapshot(home) == before_home
    assert (project / "CLAUDE.md").read_text() == "# evil\n"
    assert not (project / ".claude/.skillpm-staging").exists()


def test_a_linked_staging_folder_is_refused_and_never_emptied(cli: Cli, tmp_path: Path) -> None:
    home = write_tree(tmp_path / "home", {"Documents/thesis.md": "years of work"})
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude/.skillpm-staging").symlink_to(home)
    for args in (["install"], ["remove", "x"], ["update"], ["sync"]):
        result = cli(*args, cwd=project)
        assert result.exit_code == 1, result.output
        assert result.stderr.count("\n") == 1
        assert ".skillpm-staging is a symbolic link" in result.stderr
    assert (home / "Documents/thesis.md").read_text() == "years of work"
