"""Crash consistency beyond install: update, remove, sync and publish killed at every step.

Each command is run in a forked child that SIGKILLs itself after N durable steps
(``SKILLPM_TEST_CRASH_AFTER_STEP``), for N = 1, 2, ... until a run completes. After
every kill, ``skillpm list`` (which finishes an interrupted change first) must show
the old state or the new one, the files must be exactly the old or the new ones
(skills, CLAUDE.md, manifest and lock agreeing), and running the command again must
complete with no stray folder left.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from skillpm.project.transaction import recover_interrupted
from tests.helpers import (
    Cli,
    fragment_md,
    make_package,
    make_registry,
    publish_to,
    run_killed,
    snapshot,
)

RULES = "- Team: {{ vars.team }}\n- Alpha {{ version }}\n"


def _alpha(version: str, skills: dict[str, str]) -> dict[str, object]:
    body = RULES.replace("{{ version }}", version)
    return {
        "name": "alpha",
        "version": version,
        "skills": skills,
        "fragments": {"alpha-rules": fragment_md("alpha-rules", body, section="Alpha rules")},
    }


def _state(project: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(project).items() if ".skillpm-staging" not in k}


def _listing(cli: Cli, project: Path) -> object:
    result = cli("list", "--json", cwd=project)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _crash_everywhere(
    cli: Cli,
    tmp_path: Path,
    base: Path,
    args: tuple[str, ...],
    *,
    state: Callable[[Path], object] = _state,
    settle: Callable[[Path], object] | None = None,
    seen_before_recovery: bool = False,
) -> list[str]:
    """Kill ``args`` at every step from a copy of ``base``; return old/new per kill."""
    reference = tmp_path / "reference"
    shutil.copytree(base, reference, symlinks=True)
    result = cli(*args, cwd=reference)
    assert result.exit_code == 0, result.output
    old, new = state(base), state(reference)
    assert old != new
    settle = settle or (lambda p: _listing(cli, p))
    listings = {"old": settle(base), "new": settle(reference)}
    outcomes: list[str] = []
    for step in range(1, 80):
        project = tmp_path / f"crash-{step}"
        shutil.copytree(base, project, symlinks=True)
        code = run_killed(*args, cwd=project, step=step)
        if code == 0:
            assert state(project) == new
            return outcomes
        assert code == -9, f"exit {code} at step {step}"
        seen = settle(project)  # what a user sees next: old or new, never a mix
        now = state(project)
        assert now in (old, new), f"mixed state after a kill at step {step}"
        outcome = "new" if now == new else "old"
        if seen_before_recovery:  # readers saw the kill's leftovers: old or new, either
            assert seen in listings.values(), f"readers see a mix after a kill at step {step}"
        else:
            assert seen == listings[outcome], f"list misreports after a kill at step {step}"
        outcomes.append(outcome)
        if outcome == "old":  # the change is lost as a whole: running it again completes
            rerun = cli(*args, cwd=project)
            assert rerun.exit_code == 0, rerun.output
            assert state(project) == new
        assert not (project / ".claude/.skillpm-staging").exists()
        shutil.rmtree(project)
    pytest.fail(f"{args} never completed")


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    for name in ("claudeignore-defaults", "bedrock-setup"):  # settings and .claudeignore
        publish_to(root, ROOT / "skills" / name)
    return make_registry(
        root,
        [
            _alpha("1.0.0", {"alpha-a": "one", "alpha-b": "one"}),
            {"name": "gamma", "skills": {"gamma": "one"}},
            {
                "name": "beta",
                "skills": {"beta": ""},
                "dependencies": {"gamma": "^1"},
                "fragments": {"beta-notes": fragment_md("beta-notes", "Beta notes\n")},
            },
        ],
    )


@pytest.fixture
def base(cli: Cli, tmp_path: Path, registry: Path) -> Path:
    """A project with alpha, beta, gamma and bedrock-setup installed: skills, two blocks
    in CLAUDE.md, keys in .claude/settings.json and lines in .claudeignore."""
    project = tmp_path / "base"
    project.mkdir()
    (project / "CLAUDE.md").write_text("# Ours\n\nKept as is.\n")
    (project / ".claude").mkdir()
    (project / ".claude/settings.json").write_text('{\n  "env": {"MINE": "1"}\n}\n')
    (project / ".claudeignore").write_text("secrets/\n")
    manifest = {
        "registries": {"local": str(registry)},
        "dependencies": {"alpha": "^1", "beta": "^1", "bedrock-setup": "^1"},
        "vars": {"team": "platform", "aws": {"region": "eu-west-1"}},
    }
    (project / "skills.yaml").write_text("# our skills\n" + yaml.safe_dump(manifest))
    result = cli("install", cwd=project)
    assert result.exit_code == 0, result.output
    return project


def test_update_killed_at_every_step(cli: Cli, tmp_path: Path, registry: Path, base: Path) -> None:
    make_registry(
        registry,
        [
            _alpha("1.1.0", {"alpha-a": "two", "alpha-c": "new"}),
            {"name": "gamma", "version": "1.1.0", "skills": {"gamma": "two"}},
        ],
    )
    outcomes = _crash_everywhere(cli, tmp_path, base, ("update",))
    assert len(outcomes) >= 8 and {"old", "new"} <= set(outcomes)


def test_remove_killed_at_every_step(cli: Cli, tmp_path: Path, base: Path) -> None:
    outcomes = _crash_everywhere(cli, tmp_path, base, ("remove", "beta", "bedrock-setup"))
    assert len(outcomes) >= 5 and {"old", "new"} <= set(outcomes)


def test_sync_killed_at_every_step(cli: Cli, tmp_path: Path, base: Path) -> None:
    text = (base / "skills.yaml").read_text().replace("team: platform", "team: data")
    text = text.replace("region: eu-west-1", "region: us-east-2")  # settings.json too
    (base / "skills.yaml").write_text(text)
    outcomes = _crash_everywhere(cli, tmp_path, base, ("sync",))
    assert len(outcomes) >= 3 and {"old", "new"} <= set(outcomes)


def test_publish_killed_at_every_step(
    cli: Cli, tmp_path: Path, registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers see only index.json; the next write to the registry tidies the folder."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    source = make_package(tmp_path / "src", "delta", skills={"delta": "", "delta-two": ""})

    def index_of(root: Path) -> object:
        return json.loads((root / "index.json").read_text())

    def reindex(root: Path) -> object:
        # The next write to the registry (reindex, publish, yank) finishes or drops.
        seen = index_of(root)
        assert cli("registry", "reindex", root).exit_code == 0
        assert cli("registry", "verify", root).exit_code == 0
        return seen

    outcomes = _crash_everywhere(
        cli,
        tmp_path,
        registry,
        ("publish", source, "--registry", "."),
        state=snapshot,
        settle=reindex,
        seen_before_recovery=True,
    )
    assert len(outcomes) >= 3 and {"old", "new"} <= set(outcomes)


def test_publish_killed_after_the_rename_is_finished_by_the_next_publish(
    cli: Cli, tmp_path: Path, registry: Path
) -> None:
    """The case that used to make the next publish refuse: folder in place, index not."""
    first = make_package(tmp_path / "first", "delta")
    second = make_package(tmp_path / "second", "epsilon")
    for step in range(1, 10):
        copy = tmp_path / f"reg-{step}"
        shutil.copytree(registry, copy)
        code = run_killed("publish", first, "--registry", copy, cwd=tmp_path, step=step)
        if code == 0:
            break
        if (copy / "packages/delta/1.0.0").is_dir():
            assert "delta" not in json.loads((copy / "index.json").read_text())["packages"]
            result = cli("publish", second, "--registry", copy)
            assert result.exit_code == 0, result.output
            assert "finished the publish of delta 1.0.0" in result.stderr
            index = json.loads((copy / "index.json").read_text())["packages"]
            assert {"delta", "epsilon"} <= set(index)
            assert cli("registry", "verify", copy).exit_code == 0
            assert not [p for p in copy.rglob(".*")]
            return
    pytest.fail("no kill landed between the rename and the index write")


def test_a_hand_placed_unlisted_folder_is_not_adopted_by_recovery(
    cli: Cli, tmp_path: Path, registry: Path
) -> None:
    """Only a folder whose marker's integrity matches is listed; others are left alone."""
    source = make_package(tmp_path / "pkg", "delta")
    staging = tmp_path / "staging"
    publish_to(staging, source)
    shutil.copytree(staging / "packages/delta", registry / "packages/delta")
    marker = registry / "packages/delta/.1.0.0.publish.json"
    entry = json.loads((staging / "index.json").read_text())["packages"]["delta"]["versions"]
    entry["1.0.0"]["integrity"] = "sha256:" + "0" * 64
    marker.write_text(json.dumps({"version": "1.0.0", "entry": entry["1.0.0"]}))
    before = json.loads((registry / "index.json").read_text())
    other = make_package(tmp_path / "other", "epsilon")
    assert cli("publish", other, "--registry", registry).exit_code == 0
    after = json.loads((registry / "index.json").read_text())
    assert "delta" not in after["packages"] and set(after["packages"]) - set(
        before["packages"]
    ) == {"epsilon"}
    assert not marker.exists()
    assert (registry / "packages/delta/1.0.0").is_dir()  # left for 'registry verify'


def test_every_command_that_changes_a_project_recovers_first(
    cli: Cli, tmp_path: Path, base: Path, registry: Path
) -> None:
    """A change killed after its commit point is finished by whatever runs next."""
    commands: list[tuple[str, ...]] = [
        ("install",),
        ("remove", "beta"),
        ("update",),
        ("sync",),
        ("registry", "add", "more", str(registry)),
        ("registry", "remove", "local"),
        ("list",),
        ("lint",),
    ]
    step = _journal_step(tmp_path, base)
    for i, args in enumerate(commands):
        project = tmp_path / f"p-{i}"
        shutil.copytree(base, project)
        # Killed right after its journal was written: only a roll-forward completes it.
        assert run_killed("remove", "alpha", cwd=project, step=step) == -9
        assert (project / ".claude/.skillpm-staging").is_dir()
        result = cli(*args, cwd=project)
        assert "finished a change that an interrupted skillpm run had started" in result.stderr, (
            args,
            result.output,
        )
        assert not (project / ".claude/.skillpm-staging").exists()
        assert not (project / ".claude/skills/alpha-a").exists()


def _journal_step(tmp_path: Path, base: Path) -> int:
    """The step at which ``remove alpha`` has written its journal and swapped nothing."""
    for step in range(1, 20):
        probe = tmp_path / f"probe-{step}"
        shutil.copytree(base, probe)
        assert run_killed("remove", "alpha", cwd=probe, step=step) == -9
        journals = list(probe.glob(".claude/.skillpm-staging/*/journal.json"))
        if journals and (probe / ".claude/skills/alpha-a").is_dir():
            return step
    pytest.fail("no step with a journal and nothing swapped")


def test_recovery_is_idempotent(cli: Cli, tmp_path: Path, base: Path) -> None:
    """Recovery itself may be killed; running it again converges to the same state."""
    project = tmp_path / "p"
    shutil.copytree(base, project)
    assert run_killed("remove", "beta", cwd=project, step=6) == -9
    once = tmp_path / "once"
    shutil.copytree(project, once, symlinks=True)
    recover_interrupted(once / ".claude/.skillpm-staging", once)
    recover_interrupted(project / ".claude/.skillpm-staging", project)
    recover_interrupted(project / ".claude/.skillpm-staging", project)
    assert _state(project) == _state(once)


SYMPTOMS = {
    "skill-missing",
    "skill-modified",
    "fragments-missing",
    "lock-stale",
    "settings-missing",
}


def test_doctor_reports_a_half_done_change_instead_of_its_symptoms(
    cli: Cli, tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skillpm.store import project_lock

    step = _journal_step(tmp_path, base)
    project = tmp_path / "p"
    shutil.copytree(base, project)
    assert run_killed("remove", "alpha", cwd=project, step=step + 2) == -9  # mid-swap
    monkeypatch.setenv("PATH", str(tmp_path / "no-aws-cli"))  # doctor would run 'aws --version'
    before = snapshot(project)
    result = cli("doctor", "--json", cwd=project)
    assert result.exit_code == 1
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert "change-interrupted" in codes
    assert not SYMPTOMS & set(codes)
    assert snapshot(project) == before  # doctor never writes
    with project_lock(project):  # another process is at work: doctor says so, waits not
        running = json.loads(cli("doctor", "--json", cwd=project).stdout)["findings"]
    assert [f["code"] for f in running if f["file"] == ".claude/.skillpm-staging"] == [
        "change-running"
    ]
    _listing(cli, project)  # list finishes the change
    after = json.loads(cli("doctor", "--json", cwd=project).stdout)["findings"]
    assert not (SYMPTOMS | {"change-interrupted"}) & {f["code"] for f in after}, after
