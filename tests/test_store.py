"""The cache location and the process locks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from skillpm import store
from tests.helpers import SRC


@pytest.mark.parametrize(
    ("home", "xdg"),
    [
        ("/home/ada", None),
        ("/home/ada/", None),
        ("/home/ada", "/var/cache/ada"),
        ("/home/ada", ""),
        ("/home/ada", "relative/cache"),
        ("relative-home", None),
        ("/", None),
    ],
)
def test_the_cache_dir_is_platformdirs_own(
    monkeypatch: pytest.MonkeyPatch, home: str, xdg: str | None
) -> None:
    """Computed without importing platformdirs where that is plain, and always its answer."""
    monkeypatch.delenv("SKILLPM_CACHE_DIR")
    monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    try:
        expected = platformdirs.user_cache_dir("skillpm", appauthor=False)
    except RuntimeError:
        return  # platformdirs cannot tell either
    assert store.cache_dir() == Path(expected)


def test_skillpm_cache_dir_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "c"))
    assert store.cache_dir() == tmp_path / "c"


def test_a_held_lock_can_be_taken_again_by_its_holder(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "x.lock"
    with store.exclusive(lock, "x"), store.exclusive(lock, "x"):
        pass
    with store.exclusive(lock, "x"):  # released for real after the outer block
        pass


def test_another_process_waits_for_the_lock_and_says_so(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    code = (
        "import sys; from pathlib import Path; from skillpm import store\n"
        "with store.exclusive(Path(sys.argv[1]), 'the thing'):\n    print('got it')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with store.exclusive(lock, "x"):
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(lock)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the warning, then the child waits
        assert "waiting for another skillpm process to finish with the thing" in line
        assert proc.poll() is None
    out, _ = proc.communicate(timeout=60)
    assert out == "got it\n"
