"""The console: the progress line shows only on a terminal, and never mixes into output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import SRC

# Waits for the spinner by watching its state, not the clock: no sleeps, no timing.
SNIPPET = r"""
from skillpm import output
output.STATUS_DELAY = 0
console = output.console
{setup}
with console.status("Fetching registry team"):
    while console._status is not None and not console._status.shown:
        pass
    console.warn("midway")
    console.update_status("Preparing base 1.0.0")
    while console._status is not None and not console._status.shown:
        pass
console.info("done")
"""


def _on_terminal(setup: str = "") -> str:
    import pty

    env = {**os.environ, "PYTHONPATH": str(SRC), "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.execve(sys.executable, [sys.executable, "-c", SNIPPET.format(setup=setup)], env)
    out = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    os.waitpid(pid, 0)
    return out.decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_status_line_on_a_terminal() -> None:
    out = _on_terminal()
    assert "Fetching registry team" in out and "Preparing base 1.0.0" in out
    assert "\r\x1b[2K\x1b[33mwarning: midway" in out  # cleared before other output
    assert out.endswith("\r\x1b[2Kdone\r\n")  # and at the end


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_quiet_silences_the_status_line() -> None:
    out = _on_terminal("console.configure(quiet=True)")
    assert "Fetching" not in out and "done" not in out and "midway" not in out


def test_no_status_line_in_a_pipe() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    snippet = SNIPPET.format(setup="").replace("not console._status.shown", "False")
    proc = subprocess.run(
        [sys.executable, "-c", snippet], env=env, capture_output=True, text=True, check=True
    )
    assert proc.stdout == "done\n"
    assert proc.stderr == "warning: midway\n"
