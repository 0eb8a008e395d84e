"""Timing one command: wall time, CPU time and peak RSS of its whole process tree."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Command:
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    ok_codes: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and the children it waited for
    maxrss_kb: int  # the largest resident set of any process in the tree


# The spawner: a small process started before the bench grows, which forks each
# command and reports wait4's numbers. Forked from the bench itself, a child would
# inherit its peak RSS as its own (Linux keeps the high-water mark across exec).
_SPAWNER = r"""
import json, os, sys, time
null = os.open(os.devnull, os.O_RDONLY)
for line in sys.stdin:
    argv, cwd, env, out, err = json.loads(line)
    fds = [os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) for p in (out, err)]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            os.dup2(null, 0); os.dup2(fds[0], 1); os.dup2(fds[1], 2)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    for fd in fds:
        os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps([code, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss]), flush=True)
"""


class Spawner:
    def __init__(self) -> None:
        # -S -E: no site (and its .pth imports), so the spawner stays a few MB.
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-E", "-c", _SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.tmp = Path(tempfile.mkdtemp(prefix="skillpm-bench-out-"))

    def run(self, cmd: Command) -> Sample:
        """Run ``cmd`` once; its output goes to files so no pipe can stall it."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        out, err = self.tmp / "out", self.tmp / "err"
        request = [list(cmd.argv), str(cmd.cwd), dict(cmd.env), str(out), str(err)]
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        code, wall, cpu, maxrss = json.loads(self.proc.stdout.readline())
        if code not in cmd.ok_codes:
            tail = (out.read_bytes() + err.read_bytes()).decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd.argv)} exited {code}:\n{tail}")
        return Sample(wall, cpu, maxrss)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Measure:
    """One command measured several times; ``prepare`` and ``check`` are not timed."""

    key: str
    label: str
    prepare: Callable[[], Command]
    check: Callable[[Command], None] = lambda cmd: None
    cleanup: Callable[[Command], None] = lambda cmd: None
    samples: list[Sample] = field(default_factory=list)

    def once(self, spawner: Spawner) -> None:
        cmd = self.prepare()
        sample = spawner.run(cmd)
        self.check(cmd)
        self.cleanup(cmd)
        self.samples.append(sample)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def fastest(self) -> float:
        """The least disturbed run: on a busy machine, a second witness beside the median."""
        return min(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def maxrss_kb(self) -> int:
        return int(statistics.median(s.maxrss_kb for s in self.samples))


def rounds(
    spawner: Spawner, measures: Sequence[Measure], runs: int, progress: Callable[[str], None]
) -> None:
    """Run every measure ``runs`` times, round robin, rotating the order each round.

    Other processes share the machine: interleaving spreads a noisy moment over
    every measure alike, and rotating keeps any one of them from always running
    right after the same neighbour (a cold page cache, a CPU boost ending).
    """
    if not measures:
        return
    for r in range(runs):
        shift = r % len(measures)
        for m in [*measures[shift:], *measures[:shift]]:
            m.once(spawner)
        progress(f"round {r + 1}/{runs}")
