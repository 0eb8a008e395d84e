"""Several skillpm processes on one project: they queue on the project lock, say so,
and every change lands."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from skillpm.store import project_lock
from tests.helpers import SRC, Cli, make_registry


def _first_lines(procs: list[subprocess.Popen[str]]) -> list[str]:
    """The first stderr line of each process (read in threads: no sleeps, no timing)."""
    lines = [""] * len(procs)

    def read(i: int) -> None:
        assert procs[i].stderr is not None
        lines[i] = procs[i].stderr.readline()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(procs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return lines


def test_four_concurrent_installs_all_land(cli: Cli, tmp_path: Path, project: Path) -> None:
    names = [f"pkg-{i}" for i in range(4)]
    registry = make_registry(tmp_path / "registry", [{"name": n} for n in names])
    assert cli("registry", "add", "team", registry, cwd=project).exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    # Hold the project lock so that all four start, find it taken and queue up.
    with project_lock(project):
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "skillpm", "install", name],
                cwd=project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in names
        ]
        first = _first_lines(procs)
    for line in first:
        assert line.startswith(
            "warning: waiting for another skillpm process to finish with project"
        ), first
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    lock = yaml.safe_load((project / "skills.lock").read_text())
    assert sorted(p["name"] for p in lock["packages"]) == names
    manifest = yaml.safe_load((project / "skills.yaml").read_text())
    assert sorted(manifest["dependencies"]) == names
    assert manifest["registries"] == {"team": str(registry)}
    for name in names:
        assert (project / f".claude/skills/{name}/SKILL.md").is_file()
    result = cli("install", "--frozen", cwd=project)
    assert result.exit_code == 0 and "Nothing to do: 4 packages up to date" in result.stdout
    assert not (project / ".claude/.skillpm-staging").exists()
