"""The no-op fast path: proven from stat stamps, never fooled by an edit, a stale lock or drift."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from skillpm.project import state as installstate
from skillpm.project.state import ProjectState, quick_noop, state_path
from tests.helpers import Cli, fragment_md, make_registry, run_skillpm, snapshot

NOTES = fragment_md("team-notes", section="Team notes", body="- Be kind.\n")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(
        tmp_path / "registry",
        [
            {
                "name": "app",
                "files": {"skills/app/references/guide.md": "# Guide\n", "skills/app/run.sh": "x"},
            },
            {"name": "notes", "skills": {}, "fragments": {"team-notes": NOTES}},
        ],
    )


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust stamps at once (a real run trusts them two seconds after a write; no sleeps)."""
    monkeypatch.setattr(installstate, "RACY_NS", -(10**15))


@pytest.fixture
def installed(cli: Cli, project: Path, registry: Path, trusting: None) -> Path:
    assert cli("install", "app", "notes", "--registry", registry, cwd=project).exit_code == 0
    assert cli("install", cwd=project).exit_code == 0  # hashes once, records the stamps
    return project.resolve()


def no_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import skillpm.commands.install

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the full install ran")

    monkeypatch.setattr(skillpm.commands.install, "install", refuse)


def test_a_noop_needs_neither_yaml_nor_registries(
    cli: Cli, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(installed)
    no_full_path(monkeypatch)
    for args in (["install"], ["install", "--frozen"], ["install", "--offline"]):
        result = cli(*args, cwd=installed)
        assert result.exit_code == 0, result.output
        assert result.stdout == "Nothing to do: 2 packages up to date\n"
    assert cli("-q", "install", cwd=installed).stdout == ""
    assert snapshot(installed) == before


def test_stamps_are_recorded_for_every_file_of_a_skill(installed: Path) -> None:
    assert quick_noop(installed) == 2
    state = ProjectState(installed)
    assert set(state.trees) == {".claude/skills/app"}
    assert {f[0] for f in state.trees[".claude/skills/app"]["files"]} == {
        "SKILL.md",
        "references/guide.md",
        "run.sh",
    }


@pytest.mark.parametrize(
    "change",
    [
        "same-size edit",
        "edit with mtime put back",
        "chmod",
        "new file",
        "removed file",
        "removed skill",
        "replaced folder",
    ],
)
def test_an_installed_skill_changed_in_any_way_is_noticed(
    cli: Cli, installed: Path, change: str
) -> None:
    skill = installed / ".claude/skills/app"
    guide = skill / "references/guide.md"
    before = snapshot(installed)
    if change == "same-size edit":
        guide.write_text("# Gu1de\n")
    elif change == "edit with mtime put back":
        st = guide.stat()
        guide.write_text("# Gu1de\n")
        os.utime(guide, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "chmod":
        guide.chmod(0o755)
    elif change == "new file":
        (skill / "references/extra.md").write_text("more\n")
    elif change == "removed file":
        guide.unlink()
    elif change == "removed skill":
        shutil.rmtree(skill)
    elif change == "replaced folder":
        copy = installed / "copy"
        shutil.copytree(skill, copy)
        shutil.rmtree(skill)
        copy.rename(skill)
        assert snapshot(installed) == before  # same bytes: restored by hand, nothing to do
        assert quick_noop(installed) == 2
        return
    assert quick_noop(installed) is None
    result = cli("install", cwd=installed)
    assert result.exit_code == 0, result.output
    assert "+ app 1.0.0 (restored)" in result.stdout
    assert snapshot(installed) == before  # an extra file went too
    assert quick_noop(installed) == 2


def test_a_changed_manifest_or_lock_is_never_taken_as_fresh(cli: Cli, installed: Path) -> None:
    manifest = installed / "skills.yaml"
    manifest.write_text(manifest.read_text() + "vars:\n  team: platform\n")
    assert quick_noop(installed) is None
    result = cli("install", cwd=installed)  # re-resolves: the lock was stale
    assert result.exit_code == 0, result.output
    assert quick_noop(installed) == 2
    lock = installed / "skills.lock"
    lock.write_text(lock.read_text().replace("version: 1.0.0", "version: '1.0.0'", 1))
    assert quick_noop(installed) is None


def test_claude_md_drift_is_noticed(cli: Cli, installed: Path) -> None:
    claude = installed / "CLAUDE.md"
    rendered = claude.read_text()
    claude.write_text("# Ours\n")
    assert quick_noop(installed) is None
    result = cli("install", cwd=installed)
    assert result.exit_code == 0, result.output
    assert "Be kind." in claude.read_text()
    # A hand edit inside the block is the user's: any change to the bytes sends one run
    # the full way, which keeps the edit and finds nothing to do; the next is quick again.
    claude.write_text(rendered.replace("Be kind.", "Be very kind."))
    assert quick_noop(installed) is None
    assert "Nothing to do" in cli("install", cwd=installed).stdout
    assert "Be very kind." in claude.read_text()
    assert quick_noop(installed) == 2
    # Text of the user's own outside the blocks: the same.
    claude.write_text("# Ours\n\n" + claude.read_text())
    assert quick_noop(installed) is None
    assert "Nothing to do" in cli("install", cwd=installed).stdout
    assert quick_noop(installed) == 2


def test_fresh_files_are_hashed_not_trusted(cli: Cli, project: Path, registry: Path) -> None:
    """Within the racy window a stamp proves nothing: the bytes are read instead."""
    assert cli("install", "app", "--registry", registry, cwd=project).exit_code == 0
    root = project.resolve()
    assert quick_noop(root) == 1
    assert ProjectState(root).trees == {}  # written just now: not recorded
    (root / ".claude/skills/app/run.sh").write_text("y")
    assert quick_noop(root) is None


def test_a_damaged_or_foreign_state_file_only_costs_a_full_check(cli: Cli, installed: Path) -> None:
    path = state_path(installed)
    for junk in (b"{not json", b"[]", b'{"format": 2, "root": "/elsewhere"}'):
        Path(path).write_bytes(junk)
        assert quick_noop(installed) is None
        assert "Nothing to do" in cli("install", cwd=installed).stdout
    assert quick_noop(installed) == 2


def test_an_interrupted_run_goes_the_full_way(cli: Cli, installed: Path) -> None:
    (installed / ".claude/.skillpm-staging/txn-1-deadbeef").mkdir(parents=True)
    assert quick_noop(installed) is None
    assert cli("install", cwd=installed).exit_code == 0
    assert not (installed / ".claude/.skillpm-staging").exists()


def test_the_console_entry_answers_a_noop_before_click(installed: Path) -> None:
    code = (
        "import sys; from skillpm.cli.entry import main\n"
        "try:\n    main(sys.argv[1:])\nfinally:\n"
        "    print('click' in sys.modules, file=sys.stderr)\n"
    )
    env = {"PYTHONPATH": os.pathsep.join(sys.path)}
    import subprocess

    for args, out in (
        (["install"], "Nothing to do: 2 packages up to date\n"),
        (["-q", "-C", str(installed), "install", "--frozen"], ""),
        (["--color", "never", "-v", "install", "--offline"], "Nothing to do: 2 packages up"),
        (["install", "-q", "--frozen", "--color=never"], ""),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=installed,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(out)
        assert proc.stderr.strip() == "False"  # click never loaded
    # Anything else goes through click, with its usual answers.
    result = run_skillpm("install", "--frozen", "--bogus", cwd=installed)
    assert result.exit_code == 2 and "no such option --bogus" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["install", "app"],
        ["install", "--dry-run"],
        ["install", "--refresh"],
        ["-qv", "install"],
        ["install", "-g"],
        ["install", "--agent"],
        ["install", "--project"],
        ["--color", "purple", "install"],
        ["--help"],
        ["install", "--help"],
        ["list"],
        ["-C"],
        [],
    ],
)
def test_the_entry_leaves_every_other_command_line_to_click(args: list[str]) -> None:
    from skillpm.cli.entry import _parse

    assert _parse(args) is None


def test_the_entry_defers_to_click_on_a_bad_environment(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("SKILLPM_FETCH_INTERVAL", "soon"), ("SKILLPM_OFFLINE", "maybe")):
        monkeypatch.setenv(name, value)
        result = run_skillpm("install", cwd=installed, env={name: value})
        assert result.exit_code == 2, result.output
        monkeypatch.delenv(name)


def test_every_target_copy_and_memory_file_is_checked(
    cli: Cli, project: Path, tmp_path: Path, trusting: None
) -> None:
    kit = fragment_md("team-rules", section="Team rules", body="Be careful.\n")
    reg = make_registry(
        tmp_path / "kit",
        [{"name": "team-kit", "skills": {"deploy": "Deploy."}, "fragments": {"team-rules": kit}}],
    )
    assert cli("install", "--agent", "team-kit", "--registry", reg, cwd=project).exit_code == 0
    assert "Nothing to do" in cli("install", cwd=project).stdout
    root = project.resolve()
    assert quick_noop(root) == 1
    (root / ".agents/skills/deploy/SKILL.md").write_text("changed\n")
    assert quick_noop(root) is None
    assert "(restored)" in cli("install", cwd=project).stdout
    assert quick_noop(root) == 1
    (root / "AGENTS.md").write_text("# ours\n")
    assert quick_noop(root) is None
    assert cli("install", cwd=project).exit_code == 0
    assert "Be careful." in (root / "AGENTS.md").read_text()


def test_a_copy_in_a_target_not_in_use_goes_the_full_way(cli: Cli, installed: Path) -> None:
    shutil.copytree(installed / ".claude/skills/app", installed / ".agents/skills/app")
    assert quick_noop(installed) is None
    result = cli("install", cwd=installed)
    assert result.exit_code == 0, result.output
    assert not (installed / ".agents/skills/app").exists()


def test_settings_and_ignore_pieces_are_proven_from_their_digests(
    cli: Cli, project: Path, tmp_path: Path, trusting: None
) -> None:
    from tests.helpers import publish_to

    builtin = Path(__file__).resolve().parent.parent / "skills"
    for name in ("claudeignore-defaults", "bedrock-setup"):
        publish_to(tmp_path / "builtin-copy", builtin / name)
    (project / "skills.yaml").write_text("vars:\n  aws: {region: us-east-1}\n")
    result = cli("install", "bedrock-setup", "--registry", tmp_path / "builtin-copy", cwd=project)
    assert result.exit_code == 0, result.output
    root = project.resolve()
    assert quick_noop(root) == 2  # the run that wrote them proved them
    settings, ignore = root / ".claude/settings.json", root / ".claudeignore"

    ignore.write_text("")
    assert quick_noop(root) is None
    assert cli("install", cwd=project).exit_code == 0
    assert "cdk.out/" in ignore.read_text()
    assert quick_noop(root) == 2

    settings.write_text(settings.read_text().replace("us-east-1", "eu-west-1"))
    assert quick_noop(root) is None
    result = cli("install", cwd=project)
    assert "your value is kept" in result.stderr
    assert "eu-west-1" in settings.read_text()
    assert quick_noop(root) == 2  # the key is the user's now: nothing to say any more

    settings.unlink()
    assert quick_noop(root) is None
    assert cli("install", cwd=project).exit_code == 0
    assert "CLAUDE_CODE_USE_BEDROCK" in settings.read_text()
