"""The interpreter the benchmark measures: a fresh virtual environment holding skillpm's wheel.

A developer's interpreter carries whatever its site-packages start up with (a
``.pth`` file that imports certifi's patch, an editable install's finder), and
that start-up weighs on every Python process, floors included, flattering every
ratio. A user's ``pip install skillpm`` into a new environment has none of it, so
the bench builds exactly that: the wheel of this checkout, installed with pip
(which also compiles the bytecode) into ``python -m venv --without-pip`` (no pip,
no setuptools and its ``distutils-precedence.pth``), and runs the console script
pip wrote.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Venv:
    python: Path  # the environment's interpreter
    skillpm: Path  # the console script pip wrote for [project.scripts]
    wheel: str  # the wheel's file name
    hooks: tuple[str, ...]  # .pth files in the environment that run code at start-up


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed: {' '.join(argv)}\n{proc.stdout}{proc.stderr}")


def startup_hooks(site_packages: Path) -> tuple[str, ...]:
    """.pth files whose lines run code in every Python process (site's ``import`` lines)."""
    found = []
    for pth in sorted(site_packages.glob("*.pth")):
        lines = pth.read_text(errors="replace").splitlines()
        if any(line.startswith(("import ", "import\t")) for line in lines):
            found.append(pth.name)
    return tuple(found)


def fresh_venv(source: Path, work: Path) -> Venv:
    """Build ``source``'s wheel and install it into a new environment under ``work``."""
    wheels = work / "wheel"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheels),
            str(source),
        ],
        "building the wheel",
    )
    (wheel,) = wheels.glob("skillpm-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], "python -m venv")
    python = venv / "bin" / "python"
    # pip from outside (--python): the environment itself stays without pip.
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            str(wheel),
        ],
        "installing the wheel",
    )
    (site_packages,) = venv.glob("lib/python*/site-packages")
    return Venv(python, venv / "bin" / "skillpm", wheel.name, startup_hooks(site_packages))
